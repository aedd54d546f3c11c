package events

import (
	"context"
	"database/sql"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
)

// Limits on what Publish accepts.
const (
	// MaxKeyLen is the longest event key, in bytes.
	MaxKeyLen = 256
	// MaxPayloadLen is the largest payload, in bytes: a change feed sends
	// each event in one gRPC message, which the servers cap at 1 MiB.
	MaxPayloadLen = 256 << 10
)

// Error reasons.
const (
	ReasonTopicInvalid   = "EVENT_TOPIC_INVALID"
	ReasonKeyInvalid     = "EVENT_KEY_INVALID"
	ReasonPayloadInvalid = "EVENT_PAYLOAD_INVALID"
	ReasonCursorInvalid  = "INVALID_CURSOR"
	ReasonCursorExpired  = "CURSOR_EXPIRED"
	ReasonSealFailed     = "EVENT_SEAL_FAILED"
	ReasonOpenFailed     = "EVENT_OPEN_FAILED"
)

// topicRE: lower-case dotted names such as "consent.withdrawn".
var topicRE = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)

const maxTopicLen = 128

// publishLock is the PostgreSQL advisory lock key that serialises drawing a
// seq ("sottoevt" in ASCII); see the package documentation.
const publishLock int64 = 0x736f74746f657674

// Event is what a service publishes.
type Event struct {
	// Topic names the kind of event, in lower-case dotted form
	// ("consent.withdrawn", "identity.session.revoked").
	Topic string
	// Key names the entity the event is about (a consent, a session), so
	// that readers can tell which of their state it changes. It may be
	// empty; at most MaxKeyLen bytes of UTF-8.
	Key string
	// Payload is the event's body: Message, encoded, when set, otherwise
	// Payload as given. Set one of the two.
	Message proto.Message
	Payload []byte
}

// Record is an event as read back from the log.
type Record struct {
	// Seq is the event's position in the log; a later event has a higher
	// one. It is what cursors encode.
	Seq int64
	// ID is unique per published event: destinations that may see an event
	// twice (delivery is at least once) deduplicate by it.
	ID          string
	Topic       string
	Key         string
	Payload     []byte // always in plaintext
	PublishedAt time.Time
}

// Options configure an Outbox; zero values take the defaults.
type Options struct {
	// Sealer seals every payload at rest; nil stores payloads in plaintext.
	Sealer *Sealer
	// Retention is how long events are kept for feeds to resume from
	// (default 7 days). Events are trimmed only once every consumer has
	// also passed them.
	Retention time.Duration
	// PollInterval is how often an idle feed looks for events committed by
	// other replicas, which Notify does not reach (default 1 s).
	PollInterval time.Duration
	// Heartbeat is how often an idle feed sends its cursor (default 15 s).
	Heartbeat time.Duration
	// Now is the clock events are stamped and trimmed by (default time.Now).
	Now func() time.Time
	// Logger receives relay failures; nil discards them.
	Logger *slog.Logger
}

// Outbox is a service's event log: Publish writes events in the caller's
// transaction; Feed streams them to a client; Relay pushes them to a
// destination with a cursor of its own; Trim drops what nobody needs.
type Outbox struct {
	db    *store.DB
	opts  Options
	logID []byte
	wake  notifier

	mu     sync.Mutex
	relays []interface{ Notify() }
}

// New returns the outbox of db, whose platform schema (pkg/migrations)
// holds the event tables.
func New(ctx context.Context, db *store.DB, opts Options) (*Outbox, error) {
	if opts.Retention <= 0 {
		opts.Retention = 7 * 24 * time.Hour
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 15 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	o := &Outbox{db: db, opts: opts}
	if err := db.QueryRowContext(ctx, `SELECT log_id FROM event_log WHERE singleton = 1`).Scan(&o.logID); err != nil {
		return nil, store.MapError(err)
	}
	if len(o.logID) != logIDLen {
		return nil, errs.E(errs.Internal, "EVENT_LOG_INVALID", "event log identity has the wrong length")
	}
	return o, nil
}

// Publish writes events in tx, the transaction that makes the state change
// they describe: both commit or neither does. Call Notify after the commit
// so that this process's feeds and relays see them at once (other replicas
// find them by polling).
//
// On PostgreSQL, Publish takes a transaction-level lock that every
// publishing transaction of the database waits for until the one holding it
// ends: that is what keeps seqs committing in order. Publish as the last
// statement of the transaction, so the lock is held only for the commit
// (and so no transaction waits for it while holding a row lock that the
// lock's holder needs, which PostgreSQL would break as a deadlock).
func (o *Outbox) Publish(ctx context.Context, tx *sql.Tx, events ...Event) error {
	if len(events) == 0 {
		return nil
	}
	type row struct {
		id, topic, key string
		payload        []byte
		version        int
	}
	rows := make([]row, len(events))
	now := o.opts.Now().UnixMicro()
	for i, e := range events {
		payload, err := checked(e)
		if err != nil {
			return err
		}
		id, err := uuid.NewV7()
		if err != nil {
			return errs.Wrap(err, errs.Internal, "RANDOM_FAILED", "cannot generate an event ID")
		}
		r := row{id: id.String(), topic: e.Topic, key: e.Key, payload: payload}
		if o.opts.Sealer != nil {
			if r.payload, r.version, err = o.opts.Sealer.seal(payload, aad(r.id, r.topic, r.key)); err != nil {
				return err
			}
		}
		rows[i] = r
	}
	if o.db.Dialect == store.Postgres {
		// Held to the end of tx: no other transaction draws a seq until this
		// one has committed or rolled back.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, publishLock); err != nil {
			return store.MapError(err)
		}
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO event_outbox (event_id, topic, event_key, payload, key_version, published_at) VALUES `)
	args := make([]any, 0, 6*len(rows))
	for i, r := range rows {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString("(" + o.db.Placeholders(len(args)+1, 6) + ")")
		args = append(args, r.id, r.topic, r.key, r.payload, r.version, now)
	}
	// A plain statement on tx: preparing on the pool from inside a
	// transaction could wait for a connection that waiting transactions hold.
	if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
		return store.MapError(err)
	}
	return nil
}

// checked validates e and returns its payload bytes. The errors are the
// publishing service's bugs more than its clients', but they fail its
// transaction rather than the readers of the log.
func checked(e Event) ([]byte, error) {
	if len(e.Topic) > maxTopicLen || !topicRE.MatchString(e.Topic) {
		return nil, errs.E(errs.InvalidArgument, ReasonTopicInvalid, "event topic must be lower-case dotted words")
	}
	if len(e.Key) > MaxKeyLen || !utf8.ValidString(e.Key) || strings.ContainsRune(e.Key, 0) {
		return nil, errs.E(errs.InvalidArgument, ReasonKeyInvalid, "event key must be UTF-8 without NUL, at most %d bytes", MaxKeyLen)
	}
	payload := e.Payload
	switch {
	case e.Message != nil && e.Payload != nil:
		return nil, errs.E(errs.InvalidArgument, ReasonPayloadInvalid, "event has both a message and a payload")
	case e.Message != nil:
		var err error
		if payload, err = proto.Marshal(e.Message); err != nil {
			return nil, errs.Wrap(err, errs.InvalidArgument, ReasonPayloadInvalid, "cannot encode the event message")
		}
	}
	if len(payload) > MaxPayloadLen {
		return nil, errs.E(errs.InvalidArgument, ReasonPayloadInvalid, "event payload exceeds %d bytes", MaxPayloadLen)
	}
	if payload == nil {
		payload = []byte{} // the column is NOT NULL; an empty body is a body
	}
	return payload, nil
}

// Notify wakes this process's feeds and relays: call it after committing a
// transaction that published events.
func (o *Outbox) Notify() {
	o.wake.notify()
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range o.relays {
		r.Notify()
	}
}

// notifier wakes any number of waiters at once: wait returns a channel that
// the next notify closes.
type notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch == nil {
		n.ch = make(chan struct{})
	}
	return n.ch
}

func (n *notifier) notify() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch != nil {
		close(n.ch)
		n.ch = nil
	}
}
