package events

import (
	"context"
	"slices"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
)

// feedBatch is the most events a feed reads at once.
const feedBatch = 256

// Subscription says what a feed streams.
type Subscription struct {
	// Topics the feed streams. The RPC sets them, not its client: what an
	// RPC's callers may see is decided by its authorisation, and the topics
	// are part of what the RPC is.
	Topics []string
	// Cursor is the client's resume point: "" starts at the end of the log
	// (only events published from now on), anything else must be a cursor
	// this log issued, no older than what it keeps.
	Cursor string
}

// Change is one message of a feed: an event, or a heartbeat (Event nil).
// Either way Cursor is where to resume after it.
type Change struct {
	Cursor string
	Event  *Record
}

// Feed streams the events of sub from its cursor to send until ctx is done
// (it then returns nil) or send fails (it returns that error). It sends, in
// order: a heartbeat with the starting cursor (a client that started at the
// end saves it before it resynchronises, so nothing published meanwhile is
// missed), the backlog, then (when the subscription resumed from a cursor) a
// heartbeat to say the backlog is done, then live events as they are published (woken by
// Notify in this process, found by polling when another replica published
// them), and a heartbeat whenever it has been idle for the heartbeat
// interval, whose cursor has moved past events of other topics.
//
// A cursor older than the retention is FailedPrecondition CURSOR_EXPIRED:
// the events after it are gone and the client must resynchronise. That can
// also happen mid-stream to a client that reads slower than the log is
// trimmed.
//
// send is where the RPC turns a Change into its response message:
//
//	return outbox.Feed(stream.Context(), events.Subscription{Topics: topics, Cursor: req.GetCursor()},
//		func(c events.Change) error { return stream.Send(toResponse(c)) })
func (o *Outbox) Feed(ctx context.Context, sub Subscription, send func(Change) error) error {
	err := o.feed(ctx, sub, send)
	if err != nil && ctx.Err() != nil {
		// The client went away, mid-read or mid-send: that is the feed's
		// clean end, not an error to log.
		return nil
	}
	return err
}

func (o *Outbox) feed(ctx context.Context, sub Subscription, send func(Change) error) error {
	if len(sub.Topics) == 0 {
		return errs.E(errs.Internal, "FEED_TOPICS_MISSING", "feed has no topics")
	}
	for _, t := range sub.Topics {
		if len(t) > maxTopicLen || !topicRE.MatchString(t) {
			return errs.E(errs.Internal, ReasonTopicInvalid, "feed topic is not a topic")
		}
	}
	topics := slices.Clone(sub.Topics)
	head, err := o.head(ctx)
	if err != nil {
		return err
	}
	pos := head
	if sub.Cursor != "" {
		if pos, err = o.decodeCursor(sub.Cursor); err != nil {
			return err
		}
		// A position past the end was never issued by this log as it is
		// now (a restore from backup rewound it): the client's state is
		// ahead of the log's, which is as stale as being behind.
		if pos > head {
			return errExpired()
		}
		if err := o.checkHorizon(ctx, pos); err != nil {
			return err
		}
	}
	if err := send(Change{Cursor: o.encodeCursor(pos)}); err != nil {
		return err
	}
	resumed := sub.Cursor != ""
	poll := time.NewTicker(o.opts.PollInterval)
	defer poll.Stop()
	heartbeat := time.NewTicker(o.opts.Heartbeat)
	defer heartbeat.Stop()
	for {
		// Taken before reading, so a Notify during the read is not missed.
		woken := o.wake.wait()
		batch, through, err := o.read(ctx, topics, pos, feedBatch)
		if err != nil {
			return err
		}
		for i := range batch {
			if err := send(Change{Cursor: o.encodeCursor(batch[i].Seq), Event: &batch[i]}); err != nil {
				return err
			}
		}
		if len(batch) > 0 {
			heartbeat.Reset(o.opts.Heartbeat)
		}
		pos = through
		if len(batch) == feedBatch {
			continue
		}
		if resumed {
			// Caught up with what the client missed: say so at once (a
			// heartbeat after the replayed events), so that a client that
			// resumed knows when its cache is current again.
			resumed = false
			if err := send(Change{Cursor: o.encodeCursor(pos)}); err != nil {
				return err
			}
			heartbeat.Reset(o.opts.Heartbeat)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-woken:
		case <-poll.C:
		case <-heartbeat.C:
			if err := send(Change{Cursor: o.encodeCursor(pos)}); err != nil {
				return err
			}
		}
	}
}
