package consent

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/events"
	"github.com/sottohq/sotto/services/consent/internal/catalogue"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
)

// FeedChange is one message of the change feed: a decision, a purpose, or
// (neither) a heartbeat. Cursor is where to resume after it.
type FeedChange struct {
	Cursor   string
	Decision *DecisionChange
	Purpose  *catalogue.Purpose
}

// Watch streams decisions and catalogue changes after cursor (from now on
// when it is empty) to send until ctx ends or send fails. It adds its own
// heartbeat every heartbeat of silence on top of the event log's (which
// is seconds apart at most, so a client's staleness bound can be a few
// seconds): a quiet feed then reads as alive, a dead one as stale, quickly.
func (s *Service) Watch(ctx context.Context, cursor string, heartbeat time.Duration, send func(FeedChange) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu     sync.Mutex // serialises send: the feed and the heartbeat share the stream
		last   string
		sentAt time.Time
		// current: the client has every change up to last. A resumed feed
		// is current once the event log says its backlog is done (a
		// heartbeat after the first message); until then a heartbeat of
		// ours would tell a client its cache is current while replayed
		// withdrawals are still on their way (pkg/consentclient).
		current = cursor == ""
		first   = true
	)
	emit := func(c FeedChange) error {
		mu.Lock()
		defer mu.Unlock()
		if c.Cursor != "" {
			last = c.Cursor
		}
		if !first && c.Decision == nil && c.Purpose == nil {
			current = true
		}
		first = false
		sentAt = time.Now()
		return send(c)
	}
	done := make(chan error, 1)
	go func() {
		sub := events.Subscription{Topics: []string{TopicDecision, TopicPurpose}, Cursor: cursor}
		done <- s.events.Feed(ctx, sub, func(ch events.Change) error {
			c, err := decodeChange(ch)
			if err != nil {
				return err
			}
			return emit(c)
		})
	}()
	tick := time.NewTicker(max(heartbeat/4, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return err
		case <-tick.C:
			mu.Lock()
			var err error
			if last != "" && current && time.Since(sentAt) >= heartbeat {
				sentAt = time.Now()
				err = send(FeedChange{Cursor: last})
			}
			mu.Unlock()
			if err != nil {
				cancel()
				<-done // the feed must not send once this returns
				return err
			}
		}
	}
}

func decodeChange(ch events.Change) (FeedChange, error) {
	c := FeedChange{Cursor: ch.Cursor}
	if ch.Event == nil {
		return c, nil
	}
	bad := func(err error) (FeedChange, error) {
		return c, errs.Wrap(err, errs.Internal, reasons.StoreInvariant, "change feed event does not decode")
	}
	switch ch.Event.Topic {
	case TopicDecision:
		var d DecisionChange
		if err := json.Unmarshal(ch.Event.Payload, &d); err != nil {
			return bad(err)
		}
		c.Decision = &d
	case TopicPurpose:
		var p PurposeChange
		if err := json.Unmarshal(ch.Event.Payload, &p); err != nil {
			return bad(err)
		}
		c.Purpose = &p.Purpose
	}
	return c, nil
}
