package enduser_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/errs"
)

var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// feed is an in-memory RevocationSource: send hands one change to the
// set and returns once it was applied; breakFeed ends the current Watch.
type feed struct {
	in      chan enduser.Revocation
	applied chan struct{}
	fail    chan error
	cursors chan string
}

func newFeed() *feed {
	return &feed{in: make(chan enduser.Revocation), applied: make(chan struct{}), fail: make(chan error), cursors: make(chan string, 16)}
}

func (f *feed) Watch(ctx context.Context, cursor string, fn func(enduser.Revocation) error) error {
	f.cursors <- cursor
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-f.fail:
			return err
		case r := <-f.in:
			if err := fn(r); err != nil {
				return err
			}
			f.applied <- struct{}{}
		}
	}
}

func (f *feed) send(r enduser.Revocation) { f.in <- r; <-f.applied }
func (f *feed) heartbeat(cursor string)   { f.send(enduser.Revocation{Cursor: cursor}) }

func startSet(t *testing.T, opts ...enduser.RevocationsOption) (*enduser.Revocations, *feed, *clockwork.FakeClock) {
	t.Helper()
	clock := clockwork.NewFakeClockAt(t0)
	f := newFeed()
	r := enduser.NewRevocations(f, append([]enduser.RevocationsOption{
		enduser.WithRevocationsClock(clock), enduser.WithReconnectBackoff(time.Millisecond, time.Millisecond),
	}, opts...)...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v", err)
		}
	})
	return r, f, clock
}

func token(kind accesstoken.Kind, sub, sid string, iat time.Time) *accesstoken.Claims {
	return &accesstoken.Claims{Kind: kind, Subject: sub, SessionID: sid, IssuedAt: iat, Expiry: iat.Add(5 * time.Minute)}
}

func wantErr(t *testing.T, what string, err error, kind errs.Kind, reason string) {
	t.Helper()
	if errs.KindOf(err) != kind || errs.ReasonOf(err) != reason {
		t.Errorf("%s: %v; want %s %s", what, err, kind, reason)
	}
}

func TestRevocationsRefuseRevokedSessionsAndClients(t *testing.T) {
	t.Parallel()
	r, f, clock := startSet(t)
	<-f.cursors
	tok := token(accesstoken.KindCustomer, "acc_1", "ses_1", t0.Add(-time.Minute))

	// Until the backlog is in, the set cannot say: fail closed.
	wantErr(t, "before the backlog", r.Check(tok), errs.Unavailable, enduser.ReasonRevocationsStale)
	f.send(enduser.Revocation{Cursor: "1", SessionID: "ses_1", RevokeTime: t0, ExpireTime: t0.Add(5 * time.Minute)})
	wantErr(t, "backlog without its closing heartbeat", r.Check(tok), errs.Unavailable, enduser.ReasonRevocationsStale)
	f.heartbeat("1")
	if err := r.Ready(context.Background()); err != nil {
		t.Errorf("Ready after the backlog: %v", err)
	}

	wantErr(t, "token before the revocation", r.Check(tok), errs.Unauthenticated, accesstoken.ReasonTokenRevoked)
	wantErr(t, "token issued at the revoke time", r.Check(token(accesstoken.KindCustomer, "acc_1", "ses_1", t0)), errs.Unauthenticated, accesstoken.ReasonTokenRevoked)
	// A session is never un-revoked: a token of it signed after the revoke
	// time (a refresh that raced the revocation, in the next whole second)
	// is refused as well. Fails if Check compares iat with the revoke time.
	wantErr(t, "token of the revoked session signed a second after the revocation",
		r.Check(token(accesstoken.KindCustomer, "acc_1", "ses_1", t0.Add(time.Second))), errs.Unauthenticated, accesstoken.ReasonTokenRevoked)
	if err := r.Check(token(accesstoken.KindCustomer, "acc_1", "ses_2", t0.Add(-time.Minute))); err != nil {
		t.Errorf("another session: %v", err)
	}

	// A client: every token of it, by sub, whatever its grant.
	f.send(enduser.Revocation{Cursor: "2", ClientID: "cli_1", RevokeTime: t0, ExpireTime: t0.Add(5 * time.Minute)})
	wantErr(t, "revoked client", r.Check(token(accesstoken.KindClient, "cli_1", "grant_7", t0.Add(-time.Second))), errs.Unauthenticated, accesstoken.ReasonTokenRevoked)
	wantErr(t, "revoked client's token signed after the revocation",
		r.Check(token(accesstoken.KindClient, "cli_1", "cli_1", t0.Add(2*time.Second))), errs.Unauthenticated, accesstoken.ReasonTokenRevoked)
	if err := r.Check(token(accesstoken.KindCustomer, "cli_1", "ses_9", t0.Add(-time.Second))); err != nil {
		t.Errorf("a person whose id equals a revoked client's: %v", err)
	}

	// A revocation with no times is taken at its most cautious: now.
	f.send(enduser.Revocation{Cursor: "3", SessionID: "ses_3"})
	wantErr(t, "revocation without times", r.Check(token(accesstoken.KindStaff, "acc_3", "ses_3", t0)), errs.Unauthenticated, accesstoken.ReasonTokenRevoked)

	// Entries are forgotten after their expiry plus the skew.
	if n := r.Len(); n != 3 {
		t.Errorf("Len = %d; want 3", n)
	}
	clock.Advance(5*time.Minute + 31*time.Second)
	f.heartbeat("3")
	if n := r.Len(); n != 1 {
		t.Errorf("Len after expiry = %d; want 1 (the one without times lives the max lifetime)", n)
	}
	clock.Advance(15 * time.Minute)
	f.heartbeat("3")
	if n := r.Len(); n != 0 {
		t.Errorf("Len = %d; want 0", n)
	}
}

func TestRevocationsFailClosedWhenTheFeedIsSilent(t *testing.T) {
	t.Parallel()
	r, f, clock := startSet(t)
	<-f.cursors
	f.heartbeat("1")
	tok := token(accesstoken.KindCustomer, "acc_1", "ses_1", t0)
	if err := r.Check(tok); err != nil {
		t.Fatal(err)
	}
	clock.Advance(5 * time.Minute)
	if err := r.Check(tok); err != nil {
		t.Errorf("silent for exactly the token lifetime: %v", err)
	}
	clock.Advance(time.Second)
	wantErr(t, "silent for longer than a token lives", r.Check(tok), errs.Unavailable, enduser.ReasonRevocationsStale)
	if err := r.Ready(context.Background()); errs.ReasonOf(err) != enduser.ReasonRevocationsStale {
		t.Errorf("Ready = %v", err)
	}
	f.heartbeat("1")
	if err := r.Check(tok); err != nil {
		t.Errorf("after the feed came back: %v", err)
	}
}

func TestRevocationsResumeFromTheCursor(t *testing.T) {
	t.Parallel()
	r, f, _ := startSet(t)
	if c := <-f.cursors; c != "" {
		t.Errorf("first cursor %q; want empty (the whole backlog)", c)
	}
	f.send(enduser.Revocation{Cursor: "7", SessionID: "ses_1", RevokeTime: t0, ExpireTime: t0.Add(5 * time.Minute)})
	f.heartbeat("8")
	f.fail <- errors.New("connection reset")
	if c := <-f.cursors; c != "8" {
		t.Errorf("reconnected from %q; want 8", c)
	}
	// The set survived the break.
	wantErr(t, "after a reconnect", r.Check(token(accesstoken.KindCustomer, "a", "ses_1", t0)), errs.Unauthenticated, accesstoken.ReasonTokenRevoked)

	// A cursor the feed no longer knows: start over from the backlog.
	f.fail <- enduser.ErrCursorInvalid
	if c := <-f.cursors; c != "" {
		t.Errorf("after an invalid cursor, reconnected from %q; want empty", c)
	}
}
