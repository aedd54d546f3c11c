package server_test

import (
	"bytes"
	"context"
	"maps"
	"strconv"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/conversation/internal/conversation"
	"github.com/sottohq/sotto/services/conversation/internal/server"
	"github.com/sottohq/sotto/services/conversation/migrations"
)

// harnessConsents holds the consent stand-in of a test's harness
// (withConsents); harnessConsent hands it to app.New.
var harnessConsents sync.Map // testing.TB → *consents

func harnessConsent(t testing.TB) conversation.ConsentChecker {
	if c, ok := harnessConsents.Load(t); ok {
		return c.(*consents).check
	}
	return nil
}

// shopperDialects runs fn on each dialect with a harness whose consent
// stand-in answers allowed and is down for down (fresh per dialect: a
// test may change its answers).
func shopperDialects(t *testing.T, allowed, down map[string]bool, fn func(t *testing.T, h *harness, c *consents)) {
	t.Helper()
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		c := &consents{allowed: maps.Clone(allowed), down: maps.Clone(down)}
		if c.allowed == nil {
			c.allowed = map[string]bool{}
		}
		harnessConsents.Store(t, c)
		t.Cleanup(func() { harnessConsents.Delete(t) })
		fn(t, newHarness(t, db), c)
	})
}

func (h *harness) recordEvent(ctx context.Context, id, subject string, kind conversationv1.ShopperEventKind, sku string, at time.Time) (bool, error) {
	resp, err := h.client.RecordShopperEvent(ctx, &conversationv1.RecordShopperEventRequest{EventId: id, CustomerSubject: subject,
		Kind: kind, Sku: sku, EventTime: timestamppb.New(at)})
	return resp.GetRecorded(), err
}

// ask posts text in a new conversation of ctx's customer and returns the
// assistant's reply.
func (h *harness) ask(ctx context.Context, text string) string {
	h.t.Helper()
	resp, err := h.client.PostMessage(ctx, &conversationv1.PostMessageRequest{ConversationId: h.open(ctx), Text: text})
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.GetReply().GetText()
}

const (
	viewed  = conversationv1.ShopperEventKind_SHOPPER_EVENT_KIND_VIEWED
	ordered = conversationv1.ShopperEventKind_SHOPPER_EVENT_KIND_ORDERED
)

// TestShopperEventsOnlyWithConsent: an event of a customer without
// personalisation consent is not stored (recorded false); with the consent
// service down the call is Unavailable and nothing is stored; with consent
// it is stored once, however often the shop sends it. Only integrators with
// conversation.events and administrators at aal2 may record.
func TestShopperEventsOnlyWithConsent(t *testing.T) {
	shopperDialects(t, map[string]bool{"cus_carol": true}, map[string]bool{"cus_dave": true}, func(t *testing.T, h *harness, c *consents) {
		shop := h.integrator("cli_shop", "shop", server.ScopeEvents)
		at := time.Now().Add(-time.Hour)
		if ok, err := h.recordEvent(shop, "ev-1", "cus_frank", viewed, "TR-2", at); err != nil || ok {
			t.Fatalf("no consent: recorded %v, %v; want false", ok, err)
		}
		if n := h.count("shopper_events"); n != 0 {
			t.Fatalf("no consent: %d events stored, want 0", n)
		}
		_, err := h.recordEvent(shop, "ev-2", "cus_dave", viewed, "TR-2", at)
		if status.Code(err) != codes.Unavailable || reasonOf(err) != "CONSENT_UNAVAILABLE" {
			t.Fatalf("consent down: %v (%s), want UNAVAILABLE CONSENT_UNAVAILABLE", err, reasonOf(err))
		}
		if n := h.count("shopper_events"); n != 0 {
			t.Fatalf("consent down: %d events stored, want 0", n)
		}
		for range 2 {
			if ok, err := h.recordEvent(shop, "ev-3", "cus_carol", viewed, "TR-2", at); err != nil || !ok {
				t.Fatalf("consent: recorded %v, %v; want true", ok, err)
			}
		}
		admin := h.staff("stf_ann", accesstoken.RoleAdmin)
		if ok, err := h.recordEvent(admin, "ev-4", "cus_carol", viewed, "WS-3", at); err != nil || !ok {
			t.Fatalf("administrator: recorded %v, %v; want true", ok, err)
		}
		if n := h.count("shopper_events"); n != 2 {
			t.Fatalf("%d events stored, want 2 (one per event id)", n)
		}
		for name, ctx := range map[string]context.Context{
			"integrator without conversation.events": h.integrator("cli_chat", "shop", server.ScopeIngest, server.ScopeWatch),
			"customer":                               h.customer("cus_carol"),
			"support agent":                          h.staff("stf_sue", accesstoken.RoleSupportAgent),
		} {
			if _, err := h.recordEvent(ctx, "ev-5", "cus_carol", viewed, "GT-1", at); status.Code(err) != codes.PermissionDenied {
				t.Errorf("%s: %v, want PERMISSION_DENIED", name, err)
			}
		}
		if _, err := h.recordEvent(shop, "ev-6", "cus_carol", viewed, "GT-1", time.Now().Add(48*time.Hour)); status.Code(err) != codes.InvalidArgument {
			t.Errorf("an event two days ahead: %v, want INVALID_ARGUMENT", err)
		}
		if n := h.count("shopper_events"); n != 2 {
			t.Fatalf("%d events stored after refused calls, want 2", n)
		}
	})
}

// TestShopperEventsPersonaliseUntilWithdrawn: with consent, the assistant
// suggests from what the customer looked at (the newest product in stock
// not ordered since); once consent is withdrawn, the next reply does not
// use the events and they are gone.
func TestShopperEventsPersonaliseUntilWithdrawn(t *testing.T) {
	shopperDialects(t, map[string]bool{"cus_carol": true}, nil, func(t *testing.T, h *harness, c *consents) {
		shop := h.integrator("cli_shop", "shop", server.ScopeEvents)
		t0 := time.Now().Add(-3 * time.Hour)
		for i, e := range []struct {
			kind conversationv1.ShopperEventKind
			sku  string
		}{{viewed, "WS-3"}, {ordered, "WS-3"}, {viewed, "GT-1"}, {viewed, "CR-1"}} {
			if ok, err := h.recordEvent(shop, "ev-"+string(rune('a'+i)), "cus_carol", e.kind, e.sku, t0.Add(time.Duration(i)*time.Minute)); err != nil || !ok {
				t.Fatalf("event %d: %v, %v", i, ok, err)
			}
		}
		carol := h.customerIn("shop", "cus_carol")
		if got, want := h.ask(carol, "Can you recommend something?"), "Based on what you looked at recently, you might like: Trail Gaiters."; got != want {
			t.Fatalf("with consent: %q, want %q", got, want)
		}
		c.set("cus_carol", false)
		if got, want := h.ask(carol, "Can you recommend something?"), "A customer favourite right now: Day Pack 20."; got != want {
			t.Fatalf("after the withdrawal: %q, want %q", got, want)
		}
		if n := h.count("shopper_events"); n != 0 {
			t.Fatalf("after the withdrawal %d events are still stored, want 0", n)
		}
	})
}

// TestShopperEventsStayInTheirShop: another shop's integrator records in
// its own shop only (the request names no tenant); its events about the
// same account are stored under that shop's pseudonym and never reach this
// shop's assistant.
func TestShopperEventsStayInTheirShop(t *testing.T) {
	shopperDialects(t, map[string]bool{"cus_carol": true}, nil, func(t *testing.T, h *harness, c *consents) {
		other := h.integrator("cli_other", "other", server.ScopeEvents)
		if ok, err := h.recordEvent(other, "ev-1", "cus_carol", viewed, "GT-1", time.Now().Add(-time.Hour)); err != nil || !ok {
			t.Fatalf("other shop: %v, %v", ok, err)
		}
		var sid string
		if err := h.db.QueryRowContext(context.Background(), `SELECT shopper_id FROM shopper_events`).Scan(&sid); err != nil {
			t.Fatal(err)
		}
		if sid != h.app.Domain.ShopperID("other", "cus_carol") || sid == h.app.Domain.ShopperID("shop", "cus_carol") {
			t.Fatalf("the event is not under the other shop's pseudonym")
		}
		carol := h.customerIn("shop", "cus_carol")
		if got, want := h.ask(carol, "Can you recommend something?"), "A customer favourite right now: Day Pack 20."; got != want {
			t.Fatalf("this shop's assistant: %q, want %q", got, want)
		}
	})
}

// TestShopperEventsKeepNoAccountID: the account id of a customer whose
// events are stored is in no database file, WAL or log line (only its
// keyed digest); the customer's export lists the events and the erasure
// deletes them.
func TestShopperEventsKeepNoAccountID(t *testing.T) {
	const canary = "cus_canary_5e1f7b"
	shopperDialects(t, map[string]bool{canary: true}, nil, func(t *testing.T, h *harness, c *consents) {
		shop := h.integrator("cli_shop", "shop", server.ScopeEvents)
		for i, sku := range []string{"TR-2", "GT-1", "DP-20"} {
			if ok, err := h.recordEvent(shop, "ev-canary-"+sku, canary, viewed, sku, time.Now().Add(-time.Duration(i+1)*time.Hour)); err != nil || !ok {
				t.Fatalf("record: %v, %v", ok, err)
			}
		}
		if n := h.count("shopper_events"); n != 3 {
			t.Fatalf("%d events stored, want 3", n)
		}
		stored := storetest.StoredBytes(t, h.db)
		if bytes.Contains(stored, []byte(canary)) {
			t.Errorf("the account id is in the database's files")
		}
		if !bytes.Contains(stored, []byte(h.app.Domain.ShopperID("shop", canary))) {
			t.Errorf("the search did not find the pseudonym either: it does not look where the events are")
		}
		if bytes.Contains(h.logs.Bytes(), []byte(canary)) {
			t.Errorf("the account id is in the logs")
		}
		subj := &privacyv1.Subject{Tenant: "shop", Subject: canary}
		exp, err := h.privacy("consent").Export(context.Background(), &privacyv1.ExportRequest{Subject: subj, RequestId: "dsr_shopper_exp"})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, it := range exp.GetItems() {
			if it.GetCategory() == conversation.CategoryShopperEvent {
				n++
			}
		}
		if n != 3 {
			t.Errorf("the export lists %d shopper events, want 3", n)
		}
		ev, err := h.privacy("consent").Erase(context.Background(), &privacyv1.EraseRequest{Subject: subj, RequestId: "dsr_shopper_erase"})
		if err != nil {
			t.Fatal(err)
		}
		if ev.GetEvidence().GetCounts()["shopper_events_deleted"] != 3 || h.count("shopper_events") != 0 {
			t.Errorf("erasure: counts %v, %d events left; want 3 deleted, 0 left", ev.GetEvidence().GetCounts(), h.count("shopper_events"))
		}
	})
}

// TestShopperEventsBoundedPerCustomer: a customer's events are kept up to
// conversation.ShopperEventsKept, the newest by event time.
func TestShopperEventsBoundedPerCustomer(t *testing.T) {
	shopperDialects(t, map[string]bool{"cus_carol": true}, nil, func(t *testing.T, h *harness, _ *consents) {
		shop := h.integrator("cli_shop", "shop", server.ScopeEvents)
		t0 := time.Now().Add(-24 * time.Hour)
		extra := 5
		for i := range conversation.ShopperEventsKept + extra {
			if ok, err := h.recordEvent(shop, "ev-"+strconv.Itoa(i), "cus_carol", viewed, "TR-2", t0.Add(time.Duration(i)*time.Second)); err != nil || !ok {
				t.Fatalf("event %d: %v, %v", i, ok, err)
			}
		}
		if n := h.count("shopper_events"); n != conversation.ShopperEventsKept {
			t.Fatalf("%d events kept, want %d", n, conversation.ShopperEventsKept)
		}
		var oldest int64
		if err := h.db.QueryRowContext(context.Background(), `SELECT MIN(event_time) FROM shopper_events`).Scan(&oldest); err != nil {
			t.Fatal(err)
		}
		if want := store.Micros(t0.Add(time.Duration(extra) * time.Second).Truncate(time.Microsecond)); oldest != want {
			t.Errorf("oldest kept event at %d, want %d (the %d oldest dropped)", oldest, want, extra)
		}
	})
}
