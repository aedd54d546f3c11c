package server_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/jobs"
	"github.com/sottohq/sotto/services/conversation/internal/conversation"
	"github.com/sottohq/sotto/services/conversation/internal/retention"
)

const testRetention = `version: 1
default_days: {web: 30, whatsapp: 90, messenger: 90, api: 30}
model_improvement_days: 365
tenants:
  shop: {web: 45}
`

func policy(t *testing.T, src string) retention.Policy {
	t.Helper()
	p, err := retention.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// customerIn is a signed-in customer of a shop.
func (h *harness) customerIn(tenant, subject string) context.Context {
	return h.token(accesstoken.Claims{Subject: subject, Kind: accesstoken.KindCustomer, Tenant: tenant, AAL: accesstoken.AAL1, AMR: []string{"pwd"}})
}

// chat opens a conversation on a channel and posts one message with an
// e-mail address in it (so that it has messages and a placeholder).
func (h *harness) chat(ctx context.Context, ch conversationv1.ChatChannel) string {
	h.t.Helper()
	resp, err := h.client.CreateConversation(ctx, &conversationv1.CreateConversationRequest{Channel: ch})
	if err != nil {
		h.t.Fatal(err)
	}
	id := resp.GetConversation().GetConversationId()
	if _, err := h.client.PostMessage(ctx, &conversationv1.PostMessageRequest{ConversationId: id, Text: "Where is my order? I am a@example.com"}); err != nil {
		h.t.Fatal(err)
	}
	return id
}

// messagingChat opens a conversation on a messaging channel as its
// platform's webhook does, with the same message as chat.
func (h *harness) messagingChat(tenant, user string, ch conversationv1.ChatChannel) string {
	h.t.Helper()
	return h.ingest(tenant, ch, user, "msg-"+user, "Where is my order? I am a@example.com").GetConversationId()
}

// remaining lists the conversation ids in the database, sorted.
func (h *harness) remaining() []string {
	h.t.Helper()
	rows, err := h.db.QueryContext(context.Background(), `SELECT conversation_id FROM conversations ORDER BY conversation_id`)
	if err != nil {
		h.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			h.t.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}

func sorted(ids ...string) []string { return slices.Sorted(slices.Values(ids)) }

// TestRetentionDeletesExactlyTheExpired: with web kept 30 days (45 for the
// shop "shop") and WhatsApp 90, sweeps at injected times delete exactly the
// conversations idle past their shop's period for their channel, with their
// messages and placeholders, and count them.
func TestRetentionDeletesExactlyTheExpired(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		t0 := time.Now()
		webShop := h.chat(h.customerIn("shop", "cus_alice"), conversationv1.ChatChannel_CHAT_CHANNEL_WEB)
		webOther := h.chat(h.customerIn("other", "cus_bob"), conversationv1.ChatChannel_CHAT_CHANNEL_WEB)
		waShop := h.messagingChat("shop", "447700900111", whatsApp)
		waOther := h.messagingChat("other", "447700900222", whatsApp)
		day := 24 * time.Hour
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		for _, step := range []struct {
			after   time.Duration
			deleted int64
			left    []string
		}{
			{29 * day, 0, sorted(webShop, webOther, waShop, waOther)},
			{31 * day, 1, sorted(webShop, waShop, waOther)},
			{44 * day, 0, sorted(webShop, waShop, waOther)},
			{46 * day, 1, sorted(waShop, waOther)},
			{91 * day, 2, nil},
		} {
			now := t0.Add(step.after)
			r, err := h.app.Domain.NewRetention(policy(t, testRetention), nil, func() time.Time { return now }).WithMeter(mp)
			if err != nil {
				t.Fatal(err)
			}
			res, err := r.Sweep(context.Background(), "run:test")
			if err != nil {
				t.Fatal(err)
			}
			if got := h.remaining(); !slices.Equal(got, step.left) {
				t.Errorf("after %v: conversations %v, want %v", step.after, got, step.left)
			}
			if res.Deleted["conversations"] != step.deleted || res.Deleted["messages"] != 2*step.deleted ||
				res.Deleted["placeholders"] != step.deleted {
				t.Errorf("after %v: deleted %v, want %d conversations with 2 messages and 1 placeholder each", step.after, res.Deleted, step.deleted)
			}
		}
		for _, table := range []string{"messages", "placeholders"} {
			if n := h.count(table); n != 0 {
				t.Errorf("%d %s left", n, table)
			}
		}
		// The metric counts by outcome only.
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(context.Background(), &rm); err != nil {
			t.Fatal(err)
		}
		deleted := int64(0)
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				if m.Name != "sotto.conversation.retention.conversations" {
					continue
				}
				for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
					if dp.Attributes.Len() != 1 {
						t.Errorf("metric attributes %v, want outcome only", dp.Attributes.ToSlice())
					}
					if v, _ := dp.Attributes.Value("outcome"); v.AsString() == "deleted" {
						deleted += dp.Value
					}
				}
			}
		}
		if deleted != 4 {
			t.Errorf("metric counts %d deleted conversations, want 4", deleted)
		}
		if !strings.Contains(strings.Join(h.auditActions(), "\n"), "conversation.retention.sweep  run:test/conversations_deleted=2/messages_deleted=4") {
			t.Errorf("no sweep audit event with counts:\n%s", strings.Join(h.auditActions(), "\n"))
		}
	})
}

// consents is a stand-in for the consent service's answers about
// model_improvement (the real client is pkg/consentclient).
type consents struct {
	mu      sync.Mutex
	allowed map[string]bool
	down    map[string]bool
	asked   []string
}

func (c *consents) check(_ context.Context, subject, purpose string) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked = append(c.asked, subject+" "+purpose)
	if c.down[subject] {
		// An error wins over whatever else comes with it.
		return true, errs.E(errs.Unavailable, "CONSENT_UNAVAILABLE", "consent down")
	}
	return c.allowed[subject], nil
}

func (c *consents) set(subject string, allowed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.allowed[subject] = allowed
}

// TestRetentionKeepsTranscriptsOnlyWithModelImprovementConsent: past its
// period, a conversation is kept (and marked) only while its customer
// consents to model_improvement, asked again on every run: a withdrawal
// deletes it on the next run, an unanswered question (consent unreachable)
// deletes it (fail closed), and consent keeps it no longer than
// model_improvement_days. A restricted customer's conversation is kept
// (Art. 18(1)(c)) without asking.
func TestRetentionKeepsTranscriptsOnlyWithModelImprovementConsent(t *testing.T) {
	dialects(t, func(t *testing.T, h *harness) {
		t0 := time.Now()
		erin := h.chat(h.customerIn("other", "cus_erin"), conversationv1.ChatChannel_CHAT_CHANNEL_WEB)
		h.chat(h.customerIn("other", "cus_frank"), conversationv1.ChatChannel_CHAT_CHANNEL_WEB) // no consent
		h.chat(h.customerIn("other", "cus_gina"), conversationv1.ChatChannel_CHAT_CHANNEL_WEB)  // consent unreachable
		helen := h.chat(h.customerIn("other", "cus_helen"), conversationv1.ChatChannel_CHAT_CHANNEL_WEB)
		ivy := h.chat(h.customerIn("other", "cus_ivy"), conversationv1.ChatChannel_CHAT_CHANNEL_WEB)
		if _, err := h.privacy("consent").Restrict(context.Background(), &privacyv1.RestrictRequest{
			Subject: &privacyv1.Subject{Tenant: "other", Subject: "cus_ivy"}, RequestId: "dsr_ivy"}); err != nil {
			t.Fatal(err)
		}
		c := &consents{allowed: map[string]bool{"cus_erin": true, "cus_helen": true}, down: map[string]bool{"cus_gina": true}}
		sweep := func(after time.Duration) conversation.SweepResult {
			t.Helper()
			now := t0.Add(after)
			res, err := h.app.Domain.NewRetention(policy(t, testRetention), c.check, func() time.Time { return now }).Sweep(context.Background(), "run:test")
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		day := 24 * time.Hour
		res := sweep(31 * day)
		if got, want := h.remaining(), sorted(erin, helen, ivy); !slices.Equal(got, want) {
			t.Errorf("after 31 days: %v, want erin's, helen's and ivy's", got)
		}
		if res.KeptForModelImprovement != 2 || res.ConsentUnavailable != 1 || res.KeptRestricted != 1 {
			t.Errorf("sweep %+v", res)
		}
		if n := h.count("model_improvement"); n != 2 {
			t.Errorf("%d conversations marked for model improvement, want 2", n)
		}
		// Her export says so.
		ex, err := h.privacy("consent").Export(context.Background(), &privacyv1.ExportRequest{
			Subject: &privacyv1.Subject{Tenant: "other", Subject: "cus_erin"}, RequestId: "dsr_erin"})
		if err != nil {
			t.Fatal(err)
		}
		marked := false
		for _, f := range ex.GetItems()[0].GetFields() {
			marked = marked || f.GetName() == "kept_for_model_improvement_checked_time"
		}
		if !marked {
			t.Errorf("erin's export does not say her conversation is kept for model improvement: %v", ex.GetItems()[0])
		}
		for _, q := range c.asked {
			if !strings.HasSuffix(q, " model_improvement") || strings.HasPrefix(q, "cus_ivy") {
				t.Errorf("asked %q", q)
			}
		}
		c.set("cus_erin", false) // withdrawn
		sweep(32 * day)
		if got, want := h.remaining(), sorted(helen, ivy); !slices.Equal(got, want) {
			t.Errorf("after erin withdrew: %v, want helen's and ivy's", got)
		}
		sweep(366 * day)
		if got, want := h.remaining(), []string{ivy}; !slices.Equal(got, want) {
			t.Errorf("after model_improvement_days: %v, want only the restricted one", got)
		}
		if n := h.count("model_improvement"); n != 0 {
			t.Errorf("%d marks left", n)
		}
	})
}

// TestRetentionRunsAsDurableJobOnReplicas: the sweep registered on two
// pkg/jobs runners (two replicas on one database, an injected clock) runs
// once for the occurrence and deletes the expired conversation.
func TestRetentionRunsAsDurableJobOnReplicas(t *testing.T) {
	h := newHarness(t, sqliteDB(t))
	old := h.chat(h.customerIn("other", "cus_bob"), conversationv1.ChatChannel_CHAT_CHANNEL_WEB)
	clk := clockwork.NewFakeClockAt(time.Now().Add(31 * 24 * time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	for _, worker := range []string{"replica-a", "replica-b"} {
		r, err := jobs.New(h.db, jobs.Config{Worker: worker, Clock: clk, PollInterval: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.app.Domain.NewRetention(policy(t, testRetention), nil, clk.Now).Register(r, time.Hour); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			if err := r.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				t.Error(err)
			}
		})
	}
	sweeps := func() int {
		n := 0
		for _, a := range h.auditActions() {
			if strings.HasPrefix(a, string(conversation.ActionRetentionSweep)+" ") {
				n++
			}
		}
		return n
	}
	// The run's audit event is written after its deletions.
	deadline := time.Now().Add(20 * time.Second)
	for slices.Contains(h.remaining(), old) || sweeps() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the retention job did not run and delete the expired conversation")
		}
		clk.Advance(10 * time.Millisecond)
		time.Sleep(5 * time.Millisecond)
	}
	// Both replicas keep polling within the same hourly occurrence.
	for range 50 {
		clk.Advance(10 * time.Millisecond)
		time.Sleep(2 * time.Millisecond)
	}
	if n := sweeps(); n != 1 {
		t.Errorf("%d sweeps for one occurrence on two replicas, want 1", n)
	}
}
