// Package crmevents records a closed conversation's summary in crmsync
// (ADR 0015) as the customer's EVENT_KIND_CONVERSATION_SUMMARY event, for
// the shop's CRMs.
//
// The close enqueues a pkg/jobs job in its own transaction (Hook), so the
// event exists exactly when the close committed and survives crmsync being
// down and conversation crashing. The job's arguments are the
// conversation's id only; the handler reads the conversation's messages
// when it runs. The summary is built from the stored text, which is the
// placeholder view ("[EMAIL_1]"), never a value: conversation stores no
// value, and crmsync refuses a summary in which it finds personal data
// (SUMMARY_NOT_PSEUDONYMISED). Only identified customers' conversations
// are recorded: an anonymous visitor or an unlinked channel user has no
// customer record to update.
package crmevents

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	crmsyncv1 "github.com/sottohq/sotto/gen/go/sotto/crmsync/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/jobs"
	"github.com/sottohq/sotto/pkg/pii"
	"github.com/sottohq/sotto/services/conversation/internal/conversation"
	"github.com/sottohq/sotto/services/conversation/internal/storage"
)

// Kind is the pkg/jobs kind of a conversation summary on its way to crmsync.
const Kind = "conversation.crm_summary"

// MaxAttempts is about two days of pkg/jobs' backoff (capped at an hour).
const MaxAttempts = 50

// Bounds of a summary: crmsync takes 8192 characters.
const (
	maxMessages     = 200
	maxPlaceholders = 50
	maxSummaryRunes = 4000
)

// Recorder is the part of crmsync the jobs call.
type Recorder interface {
	RecordCustomerEvent(ctx context.Context, in *crmsyncv1.RecordCustomerEventRequest, opts ...grpc.CallOption) (*crmsyncv1.RecordCustomerEventResponse, error)
}

// Summaries enqueues and runs the jobs.
type Summaries struct {
	jobs  *jobs.Runner
	store *storage.Store
	crm   Recorder
}

// New registers the kind on runner (before it runs).
func New(runner *jobs.Runner, st *storage.Store, crm Recorder) (*Summaries, error) {
	s := &Summaries{jobs: runner, store: st, crm: crm}
	if err := runner.Register(Kind, s.handle, jobs.Options{MaxAttempts: MaxAttempts, Timeout: time.Minute}); err != nil {
		return nil, err
	}
	return s, nil
}

type args struct {
	Conversation string `json:"c"`
}

// Hook is conversation.Service's close hook: an identified customer's
// conversation gets its summary job, in the close's transaction.
func (s *Summaries) Hook(ctx context.Context, tx *sql.Tx, conv storage.Conversation, identified bool) error {
	if !Identified(conv, identified) {
		return nil
	}
	data, err := json.Marshal(args{Conversation: conv.ID})
	if err != nil {
		return err
	}
	_, err = s.jobs.EnqueueTx(ctx, tx, Kind, data, jobs.EnqueueOptions{UniqueKey: "crm-summary:" + conv.ID})
	return err
}

var _ conversation.CloseHook = (*Summaries)(nil).Hook

// Identified says whether a conversation's customer has an account: the
// caller said so, and the subject is no visitor's or unlinked channel
// user's pseudonym.
func Identified(conv storage.Conversation, identified bool) bool {
	subj := conv.CustomerSubject
	return identified && subj != "" && !strings.HasPrefix(subj, accesstoken.VisitorPrefix) && !strings.HasPrefix(subj, "chu_")
}

// EventID is the summary's idempotency key in crmsync: one per conversation.
func EventID(conversationID string) string {
	sum := sha256.Sum256([]byte("conversation/crm-summary\x00" + conversationID))
	return "cvs_" + hex.EncodeToString(sum[:20])
}

// Summary describes a closed conversation without any of its words: how
// many messages each side wrote, whether an agent took it, and which
// placeholders the customer's messages hold ([EMAIL_1], ...). The
// customer's sentences are never quoted, even in placeholder view: the
// detector misses some names and addresses (its recall is measured, not
// perfect), and free text can carry what is no PII category at all, such
// as health remarks (security review, 2026-11-30).
func Summary(conv storage.Conversation, msgs []storage.Message) string {
	var customer, assistant, agent int
	var shared []string
	seen := map[string]bool{}
	for _, m := range msgs {
		switch m.Author {
		case conversation.AuthorCustomer:
			customer++
			for _, ph := range pii.Placeholders(m.Text) {
				if !seen[ph] && len(shared) < maxPlaceholders {
					seen[ph] = true
					shared = append(shared, ph)
				}
			}
		case conversation.AuthorAssistant:
			assistant++
		case conversation.AuthorAgent:
			agent++
		}
	}
	var b strings.Builder
	// One sentence: a capitalised word after "agent." reads as a name to
	// pkg/pii, which crmsync runs on every summary it is given.
	fmt.Fprintf(&b, "Conversation %s closed: %d messages from the customer, %d from the assistant, %d from an agent", conv.ID, customer, assistant, agent)
	if conv.AgentSubject != "" {
		b.WriteString("; handed off to an agent")
	}
	if len(shared) > 0 {
		b.WriteString("; placeholders in the customer's messages: ")
		b.WriteString(strings.Join(shared, ", "))
	}
	b.WriteString(".")
	return truncate(b.String(), maxSummaryRunes)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func (s *Summaries) handle(ctx context.Context, j jobs.Job) error {
	var in args
	if err := json.Unmarshal(j.Args, &in); err != nil || in.Conversation == "" {
		return jobs.Permanent(errors.New("crmevents: a summary job's arguments do not parse"))
	}
	conv, err := s.store.GetConversation(ctx, s.store.DB(), in.Conversation)
	if errs.Is(err, errs.NotFound) {
		return nil // erased or expired meanwhile: nothing of it may leave
	}
	if err != nil {
		return err
	}
	msgs, err := s.store.ListMessages(ctx, conv.ID, 0, maxMessages)
	if err != nil {
		return err
	}
	tenant := conv.Tenant
	if tenant == "" {
		tenant = conversation.DefaultTenant
	}
	_, err = s.crm.RecordCustomerEvent(ctx, &crmsyncv1.RecordCustomerEventRequest{EventId: EventID(conv.ID), Tenant: tenant,
		Subject: conv.CustomerSubject, Kind: crmsyncv1.EventKind_EVENT_KIND_CONVERSATION_SUMMARY, Summary: Summary(conv, msgs)})
	switch status.Code(err) {
	case codes.OK:
		return nil
	case codes.InvalidArgument, codes.FailedPrecondition, codes.PermissionDenied, codes.NotFound:
		// No retry changes crmsync's answer: the job is dead with
		// crmsync's reason.
		return jobs.Permanent(err)
	}
	return err // unreachable or overloaded: retried, never dropped
}
