package server_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	auditserver "github.com/sottohq/sotto/services/audit/internal/server"
)

// TestAppendIsForTheSuitesServices: a workload that is not one of the
// suite's services cannot write audit history, even with a certificate of
// the trust domain.
func TestAppendIsForTheSuitesServices(t *testing.T) {
	env := startAudit(t)
	pki, addr := env.pki, env.addr
	for _, who := range []string{"stranger", "sotto-cli"} {
		c := auditv1.NewAuditServiceClient(pki.Dial(t, who, "audit", addr))
		ev := validEvent()
		ev.Action = who + ".append"
		_, err := c.AppendEvents(context.Background(), &auditv1.AppendEventsRequest{Events: []*auditv1.EventInput{ev}})
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("%s appending: %v, want PermissionDenied", who, err)
		}
	}
}

// TestActionsBelongToTheRecordingWorkload: the gateway cannot record a
// tokenvault.* event (which the audit log would list as tokenvault's), a
// request mixing its own and another's actions is refused whole, and
// nothing of it is stored.
func TestActionsBelongToTheRecordingWorkload(t *testing.T) {
	env := startAudit(t)
	ctx := context.Background()
	gw := env.officer(t)
	own, forged := validEvent(), validEvent()
	own.Action = "gateway.operator_authenticate"
	forged.Action = "tokenvault.detokenize"
	for name, events := range map[string][]*auditv1.EventInput{
		"forged":       {forged},
		"mixed":        {own, forged},
		"no namespace": {{EventId: own.EventId, OccurTime: own.OccurTime, Action: "tokenvaultx.detokenize", Outcome: own.Outcome}},
	} {
		_, err := gw.AppendEvents(ctx, &auditv1.AppendEventsRequest{Events: events})
		if status.Code(err) != codes.InvalidArgument || reasonOf(err) != "ACTION_NOT_OWNED" {
			t.Errorf("%s: %v, want InvalidArgument ACTION_NOT_OWNED", name, err)
		}
	}
	for _, ev := range []*auditv1.EventInput{own, forged} {
		if _, err := gw.GetEvent(ctx, &auditv1.GetEventRequest{EventId: ev.GetEventId()}); status.Code(err) != codes.NotFound {
			t.Errorf("event %s of a refused request: %v, want NotFound", ev.GetAction(), err)
		}
	}
	if _, err := gw.AppendEvents(ctx, &auditv1.AppendEventsRequest{Events: []*auditv1.EventInput{own}}); err != nil {
		t.Errorf("the gateway recording its own action: %v", err)
	}
}

// TestAppendRateIsLimitedPerWorkload: one workload past its budget is
// refused with ResourceExhausted (which the outbox retries), and another
// workload is not affected.
func TestAppendRateIsLimitedPerWorkload(t *testing.T) {
	// A refill so slow that the test's own duration adds nothing.
	env := startAuditLimited(t, auditserver.AppendLimit{PerSecond: 0.0001, Burst: 3})
	pki, addr := env.pki, env.addr
	ctx := context.Background()
	batch := func(workload string, n int) error {
		var events []*auditv1.EventInput
		for range n {
			ev := validEvent()
			ev.Action = workload + ".test"
			events = append(events, ev)
		}
		c := auditv1.NewAuditServiceClient(pki.Dial(t, workload, "audit", addr))
		_, err := c.AppendEvents(ctx, &auditv1.AppendEventsRequest{Events: events})
		return err
	}
	if err := batch("tokenvault", 3); err != nil {
		t.Fatalf("within the burst: %v", err)
	}
	if err := batch("tokenvault", 1); status.Code(err) != codes.ResourceExhausted || reasonOf(err) != "APPEND_RATE_LIMITED" {
		t.Errorf("past the budget: %v, want ResourceExhausted APPEND_RATE_LIMITED", err)
	}
	if err := batch("consent", 2); err != nil {
		t.Errorf("another workload: %v", err)
	}
}

// TestAppendLimitMustHoldARequest: a burst below one full request would
// refuse a full outbox batch forever; such a setting fails at start.
func TestAppendLimitMustHoldARequest(t *testing.T) {
	for _, l := range []auditserver.AppendLimit{{PerSecond: 100, Burst: 999}, {PerSecond: 0, Burst: 5000}} {
		if err := l.Check(); err == nil {
			t.Errorf("%+v accepted", l)
		}
	}
	if err := auditserver.DefaultAppendLimit.Check(); err != nil {
		t.Errorf("the default: %v", err)
	}
}

// TestOccurTimeAndCallerAreBounded: an event dated a day ahead, or naming
// a caller of another trust domain (which the recorder's mTLS could never
// have authenticated), is refused with its reason and not stored; an event
// dated years back is kept, because an outbox may deliver after any outage
// (ADR 0002, addendum), and its record_time says when the log took it.
func TestOccurTimeAndCallerAreBounded(t *testing.T) {
	env := startAudit(t)
	ctx := context.Background()
	tv := auditv1.NewAuditServiceClient(env.pki.Dial(t, "tokenvault", "audit", env.addr))
	future, foreign, old := validEvent(), validEvent(), validEvent()
	future.OccurTime = timestamppb.New(time.Now().Add(24 * time.Hour))
	foreign.CallerWorkload = "spiffe://elsewhere.test/conversation"
	old.OccurTime = timestamppb.New(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
	old.CallerWorkload = "spiffe://sotto.test/conversation"
	for want, ev := range map[string]*auditv1.EventInput{"OCCUR_TIME_IN_FUTURE": future, "CALLER_WORKLOAD_FOREIGN": foreign} {
		_, err := tv.AppendEvents(ctx, &auditv1.AppendEventsRequest{Events: []*auditv1.EventInput{ev}})
		if status.Code(err) != codes.InvalidArgument || reasonOf(err) != want {
			t.Errorf("%s: %v, want InvalidArgument %s", want, err, want)
		}
	}
	if _, err := tv.AppendEvents(ctx, &auditv1.AppendEventsRequest{Events: []*auditv1.EventInput{old}}); err != nil {
		t.Fatalf("an event from 2020 (a long outage's outbox replay): %v", err)
	}
	officer := env.officer(t)
	for _, ev := range []*auditv1.EventInput{future, foreign} {
		if _, err := officer.GetEvent(ctx, &auditv1.GetEventRequest{EventId: ev.GetEventId()}); status.Code(err) != codes.NotFound {
			t.Errorf("refused event %s: %v, want NotFound", ev.GetEventId(), err)
		}
	}
	got, err := officer.GetEvent(ctx, &auditv1.GetEventRequest{EventId: old.GetEventId()})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Event.GetOccurTime().AsTime().Equal(old.OccurTime.AsTime()) || !got.Event.GetRecordTime().AsTime().After(got.Event.GetOccurTime().AsTime().Add(time.Hour)) {
		t.Errorf("late event: occur_time %v, record_time %v; want the submitted date and the log's own later one",
			got.Event.GetOccurTime().AsTime(), got.Event.GetRecordTime().AsTime())
	}
}
