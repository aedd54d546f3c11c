// Package consentfeed follows the consent service's change feed for
// crmsync: a withdrawal cancels the customer's queued deliveries for that
// purpose as soon as it is recorded, not at each delivery's next attempt
// (which still checks consent again: this is the faster of two controls,
// not the only one). pkg/consentclient follows the same feed to keep its
// cache current; this follower acts on the changes and keeps its position
// in crmsync's database, so a restart resumes after the last change it
// handled rather than from "now".
package consentfeed

import (
	"context"
	"errors"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	consentv1 "github.com/sottohq/sotto/gen/go/sotto/consent/v1"
	"github.com/sottohq/sotto/pkg/errs"
)

// Watcher is the part of the consent service the follower uses.
type Watcher interface {
	WatchConsentChanges(ctx context.Context, in *consentv1.WatchConsentChangesRequest, opts ...grpc.CallOption) (grpc.ServerStreamingClient[consentv1.WatchConsentChangesResponse], error)
}

// Cursors keeps the follower's position.
type Cursors interface {
	FeedCursor(ctx context.Context) (string, error)
	SetFeedCursor(ctx context.Context, cursor string) error
}

// Withdrawn acts on one withdrawal (delivery.Service.Withdrawn).
type Withdrawn func(ctx context.Context, subject, purpose string) (int, error)

// Changed acts on a grant or withdrawal (delivery.Service.ConsentChanged:
// a mapped purpose's consent becomes a CRM property).
type Changed func(ctx context.Context, subject, purpose string, granted bool, recordID string) (int, error)

// Follower follows the feed.
type Follower struct {
	rpc       Watcher
	cursors   Cursors
	withdrawn Withdrawn
	changed   Changed
	logger    *slog.Logger
	// Reconnect backoff bounds (default 250 ms to 5 s).
	min, max time.Duration
}

// New returns a follower; Run it.
func New(rpc Watcher, cursors Cursors, withdrawn Withdrawn, logger *slog.Logger) *Follower {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Follower{rpc: rpc, cursors: cursors, withdrawn: withdrawn, logger: logger, min: 250 * time.Millisecond, max: 5 * time.Second}
}

// OnChange makes the follower hand every grant and withdrawal to fn as
// well, after a withdrawal's cancellations.
func (f *Follower) OnChange(fn Changed) *Follower {
	f.changed = fn
	return f
}

// Run follows the feed until ctx ends, reconnecting with backoff, and
// returns ctx's error.
func (f *Follower) Run(ctx context.Context) error {
	wait := f.min
	for {
		progressed, err := f.follow(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if progressed {
			wait = f.min
		}
		f.logger.WarnContext(ctx, "consent change feed interrupted; reconnecting", slog.String("reason", reasonOf(err)))
		// Equal jitter, so replicas do not reconnect in step.
		d := wait/2 + time.Duration(mrand.Int64N(int64(wait/2)+1))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d): // real time: the delay is not what tests control
		}
		wait = min(2*wait, f.max)
	}
}

func reasonOf(err error) string {
	if r := errs.ReasonOf(err); r != "" {
		return r
	}
	return status.Code(err).String()
}

// follow reads one connection of the feed. A change is acted on, and only
// then is its cursor kept: a crash in between acts on it again (cancelling
// is idempotent).
func (f *Follower) follow(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cursor, err := f.cursors.FeedCursor(ctx)
	if err != nil {
		return false, err
	}
	stream, err := f.rpc.WatchConsentChanges(ctx, &consentv1.WatchConsentChangesRequest{Cursor: cursor})
	if err != nil {
		return false, err
	}
	progressed := false
	for {
		msg, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return progressed, errors.New("consent change feed ended")
			}
			if c := status.Code(err); cursor != "" && (c == codes.InvalidArgument || c == codes.OutOfRange || c == codes.FailedPrecondition) {
				// The position is no longer in the feed (trimmed while
				// crmsync was down): start from now. What was withdrawn
				// meanwhile is caught by each delivery's own check.
				f.logger.WarnContext(ctx, "consent change feed position lost; following from now", slog.String("reason", reasonOf(err)))
				if err := f.cursors.SetFeedCursor(ctx, ""); err != nil {
					return progressed, err
				}
			}
			return progressed, err
		}
		progressed = true
		if cursor == "" && msg.GetCursor() != "" {
			// The first connection's starting point: kept, so that changes
			// made while crmsync is down are not skipped after a restart.
			cursor = msg.GetCursor()
			if err := f.cursors.SetFeedCursor(ctx, cursor); err != nil {
				return progressed, err
			}
		}
		ch := msg.GetConsent()
		withdrawn := ch.GetDecision() == consentv1.Decision_DECISION_WITHDRAWN
		granted := ch.GetDecision() == consentv1.Decision_DECISION_GRANTED
		if ch == nil || !withdrawn && !(granted && f.changed != nil) {
			continue
		}
		if withdrawn {
			n, err := f.withdrawn(ctx, ch.GetSubject(), ch.GetPurposeId())
			if err != nil {
				return progressed, err
			}
			if n > 0 {
				f.logger.InfoContext(ctx, "queued CRM deliveries cancelled on a consent withdrawal", slog.Int("cancelled", n),
					slog.String("purpose", ch.GetPurposeId()))
			}
		}
		if f.changed != nil {
			n, err := f.changed(ctx, ch.GetSubject(), ch.GetPurposeId(), granted, ch.GetRecordId())
			if err != nil {
				return progressed, err
			}
			if n > 0 {
				f.logger.InfoContext(ctx, "consent change queued for the CRMs", slog.Int("queued", n), slog.String("purpose", ch.GetPurposeId()))
			}
		}
		if msg.GetCursor() != "" {
			if err := f.cursors.SetFeedCursor(ctx, msg.GetCursor()); err != nil {
				return progressed, err
			}
		}
	}
}
