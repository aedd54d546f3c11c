// Package signals is the conversation service's watch for suspicious
// activity: it counts events per conversation, visitor, account and client
// address in sliding windows (messages for velocity; distinct card
// numbers, e-mail addresses and order numbers by their keyed digests; prompt
// injections), raises a signal when a shop's policy says so, and answers
// with the policy's action: record, throttle, require step-up, block, or
// hand the conversation to an agent.
//
// Signals raised are the database's (signals), so that every replica
// enforces the same blocks. Events are counted in the database
// (signal_events) when replicas share it (PostgreSQL), so that every
// replica counts the same events; on SQLite, whose file one process owns,
// in that process's memory (windows.go), which spares a message two
// writes and a read. Nothing stored
// names a person or a value: scopes and values are keyed HMACs, signals
// hold ids, kinds and counts. Two replicas counting the same moment may
// both raise a signal for one rule (the check for a live signal and the
// insert are not one statement); a duplicate row is the cost, never a
// missed one.
package signals

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
	"github.com/sottohq/sotto/services/conversation/internal/storage"
)

// Audit actions.
const (
	ActionSignal auditclient.Action = "conversation.signal"
	ActionClear  auditclient.Action = "conversation.signal_clear"

	resourceSignal = "conversation_signal"
)

// Domain tags of the digests.
const (
	scopeTag = "sotto/conversation/signal-scope/v1"
	orderTag = "sotto/conversation/signal-order-number/v1"
)

// MinKeyLen is the shortest digest key New accepts.
const MinKeyLen = sha256.Size

// Deps are what a Monitor is built from.
type Deps struct {
	Store  *storage.Store
	Audit  *auditclient.Outbox
	Policy *Policy
	// Key keys the digests of scopes (visitor, account, address,
	// conversation) and of order numbers.
	Key    []byte
	Meter  metric.MeterProvider
	Logger *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Counting is where the sliding windows are counted (windows.go;
	// CountAuto: in memory on SQLite, in the database on PostgreSQL).
	Counting Counting
	// MaxWindows bounds the in-memory windows (DefaultMaxWindows when 0).
	MaxWindows int
}

// Monitor counts, raises signals and enforces their actions.
type Monitor struct {
	d       Deps
	signals metric.Int64Counter
	refused metric.Int64Counter

	pruneMu   sync.Mutex
	lastPrune time.Time

	// mem holds the windows when counting in memory (nil: in the
	// database); limits are each (kind, scope)'s window capacity and span.
	mem    *windows
	limits map[[2]int32]windowLimit
	// recents keeps the scopes' recent signals when counting in memory
	// (recent.go; nil: read from the database every time).
	recents *recentCache
}

// windowLimit is what a window over one (kind, scope) must hold: the
// highest threshold and the longest window of the rules counting it, in
// any shop.
type windowLimit struct {
	capacity int
	span     time.Duration
}

// New builds a Monitor.
func New(d Deps) (*Monitor, error) {
	if len(d.Key) < MinKeyLen {
		return nil, errs.E(errs.Internal, reasons.DigestKeyMissing, "the signals digest key is not configured")
	}
	if d.Policy == nil {
		d.Policy = DefaultPolicy()
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Meter == nil {
		d.Meter = noop.NewMeterProvider()
	}
	meter := d.Meter.Meter("github.com/sottohq/sotto/services/conversation/internal/signals")
	m := &Monitor{d: d}
	if d.Counting == CountInMemory || (d.Counting == CountAuto && d.Store.SingleProcess()) {
		m.mem = newWindows(d.MaxWindows)
		m.recents = newRecentCache(d.MaxWindows)
		m.limits = map[[2]int32]windowLimit{}
		for _, rs := range append([][]Rule{d.Policy.def}, slices.Collect(maps.Values(d.Policy.tenants))...) {
			for _, r := range rs {
				k := [2]int32{int32(r.Kind), int32(r.Scope)}
				l := m.limits[k]
				m.limits[k] = windowLimit{capacity: max(l.capacity, r.Threshold), span: max(l.span, r.Window)}
			}
		}
	}
	var err error
	// Labels are the kind and the action: names from this package, never
	// a conversation, person or value.
	if m.signals, err = meter.Int64Counter("sotto.conversation.signals",
		metric.WithDescription("Suspicious-activity signals raised, by kind and action."), metric.WithUnit("{signal}")); err != nil {
		return nil, err
	}
	if m.refused, err = meter.Int64Counter("sotto.conversation.signals.refused",
		metric.WithDescription("Messages refused by a signal's throttle, step-up or block, by kind and action."), metric.WithUnit("{message}")); err != nil {
		return nil, err
	}
	if m.mem != nil {
		// What the in-memory counting holds: its windows are bounded
		// (MaxWindows) and live for their longest rule window, so a soak's
		// memory can be told from a leak.
		if _, err = meter.Int64ObservableGauge("sotto.conversation.signals.windows",
			metric.WithDescription("Sliding windows kept in memory for counting signals."), metric.WithUnit("{window}"),
			metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
				n, _ := m.mem.size()
				o.Observe(int64(n))
				return nil
			})); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Monitor) now() time.Time { return m.d.Now().UTC().Truncate(time.Microsecond) }

// Subject is where a message comes from: its conversation and shop, and
// the person and address behind it.
type Subject struct {
	Tenant         string
	ConversationID string
	// CustomerSubject is the conversation's customer (the audit subject).
	CustomerSubject string
	// Kind is the caller's kind: a customer counts over their account, a
	// visitor over their visitor session.
	Kind    accesstoken.Kind
	Subject string
	// Address is the client's address as the gateway saw it (invalid when
	// unknown: a messaging platform's webhook, a workload).
	Address netip.Addr
	// AAL and AuthTime are the caller's authentication, which a step-up
	// must renew.
	AAL      int
	AuthTime time.Time
}

// KindVisitor is the access-token kind of an anonymous web visitor; a
// messaging-platform user not linked to an account counts as one too.
const KindVisitor = accesstoken.KindVisitor

// keys are the subject's scope keys.
func (m *Monitor) keys(s Subject) map[Scope]string {
	out := map[Scope]string{ScopeConversation: m.digest(scopeTag, s.Tenant, "conversation", s.ConversationID)}
	switch s.Kind {
	case accesstoken.KindCustomer:
		if s.Subject != "" {
			out[ScopeAccount] = m.digest(scopeTag, s.Tenant, "account", s.Subject)
		}
	case KindVisitor:
		if s.Subject != "" {
			out[ScopeVisitor] = m.digest(scopeTag, s.Tenant, "visitor", s.Subject)
		}
	}
	if s.Address.IsValid() {
		out[ScopeSourceAddress] = m.digest(scopeTag, s.Tenant, "address", addressKey(s.Address))
	}
	return out
}

// addressKey is the source-address scope of addr: the address itself for
// IPv4, its /64 for IPv6, which one subscriber line is usually given
// whole; per /128 a single client could take a fresh address, and a fresh
// window, for every message (security review).
func addressKey(addr netip.Addr) string {
	addr = addr.Unmap()
	if addr.Is6() {
		p, err := addr.Prefix(64)
		if err == nil {
			return p.String()
		}
	}
	return addr.String()
}

// digest is the hex HMAC-SHA256 under the key of the parts, each
// length-prefixed.
func (m *Monitor) digest(parts ...string) string {
	h := hmac.New(sha256.New, m.d.Key)
	var b []byte
	for _, p := range parts {
		b = binary.AppendUvarint(b, uint64(len(p)))
		b = append(b, p...)
	}
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

func newID(prefix string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// Gate refuses a message while a throttle, step-up or block over any of
// the subject's scopes is in force: ResourceExhausted MESSAGES_THROTTLED
// with retry_after_seconds, FailedPrecondition STEP_UP_REQUIRED (until
// the caller authenticates at aal2 after the signal), PermissionDenied
// SESSION_BLOCKED. A block wins over a step-up, a step-up over a throttle.
func (m *Monitor) Gate(ctx context.Context, s Subject) error {
	now := m.now()
	recent, err := m.recent(ctx, m.keys(s), now)
	if err != nil {
		return err
	}
	return m.gate(ctx, s, recent, now)
}

// Screen is Gate, then Observe, on one read of the subject's signals (the
// message path's first hook).
func (m *Monitor) Screen(ctx context.Context, s Subject, obs []Observation) (Outcome, error) {
	now := m.now()
	keys := m.keys(s)
	recent, err := m.recent(ctx, keys, now)
	if err != nil {
		return Outcome{}, err
	}
	if err := m.gate(ctx, s, recent, now); err != nil {
		return Outcome{Refuse: err}, nil
	}
	out, err := m.observe(ctx, s, keys, obs, recent, now)
	if err != nil {
		return out, err
	}
	// What ObserveAfter needs to count the same message's values without
	// reading the signals again: the keys and what is live, with what was
	// just raised.
	return Outcome{keys: keys, recent: recent}.carry(out), nil
}

// recent reads the signals over the keys that may be in force or live.
func (m *Monitor) recent(ctx context.Context, keys map[Scope]string, now time.Time) ([]storage.Signal, error) {
	list := make([]string, 0, len(keys))
	for _, k := range keys {
		list = append(list, k)
	}
	since := now.Add(-m.d.Policy.maxWindow)
	if m.recents != nil {
		return m.recents.get(ctx, list, since, now, func(ctx context.Context, keys []string) ([]storage.Signal, error) {
			return m.d.Store.RecentSignals(ctx, keys, since, now)
		})
	}
	return m.d.Store.RecentSignals(ctx, list, since, now)
}

func (m *Monitor) gate(ctx context.Context, s Subject, recent []storage.Signal, now time.Time) error {
	err := m.refusal(s, recent, now)
	if err == nil {
		return nil
	}
	var kind Kind
	for _, g := range recent {
		if Action(g.Action) == actionOf(err) && g.ExpireTime.After(now) {
			kind = Kind(g.Kind)
			break
		}
	}
	m.refused.Add(ctx, 1, metric.WithAttributes(attribute.String("kind", kind.String()), attribute.String("action", actionOf(err).String())))
	return err
}

// refusal is the strongest refusal among signals in force, nil if none
// refuses.
func (m *Monitor) refusal(s Subject, active []storage.Signal, now time.Time) error {
	var throttleUntil, stepUpSince time.Time
	for _, g := range active {
		if !g.ExpireTime.After(now) {
			continue // recorded, handed off, or over
		}
		switch Action(g.Action) {
		case Block:
			return errs.E(errs.PermissionDenied, reasons.SessionBlocked,
				"suspicious activity blocked these messages until a staff member clears it or it expires")
		case RequireStepUp:
			if s.AAL >= accesstoken.AAL2 && !s.AuthTime.Before(g.CreateTime) {
				continue
			}
			if stepUpSince.IsZero() || g.CreateTime.After(stepUpSince) {
				stepUpSince = g.CreateTime
			}
		case Throttle:
			if g.ExpireTime.After(throttleUntil) {
				throttleUntil = g.ExpireTime
			}
		}
	}
	if !stepUpSince.IsZero() {
		// The authentication must be newer than the signal.
		age := max(now.Sub(stepUpSince).Truncate(time.Second), time.Second)
		return &enduser.StepUpError{RequiredAAL: accesstoken.AAL2, MaxAge: age}
	}
	if !throttleUntil.IsZero() {
		return &ThrottledError{RetryAfter: throttleUntil.Sub(now)}
	}
	return nil
}

func actionOf(err error) Action {
	var te *ThrottledError
	var su *enduser.StepUpError
	switch {
	case errors.As(err, &te):
		return Throttle
	case errors.As(err, &su):
		return RequireStepUp
	default:
		return Block
	}
}

// ThrottledError is ResourceExhausted MESSAGES_THROTTLED with the delay
// before the next message in the ErrorInfo metadata (retry_after_seconds;
// the gateway turns it into Retry-After).
type ThrottledError struct {
	RetryAfter time.Duration
}

// MetadataRetryAfter is the ErrorInfo metadata key of the retry delay (as
// identity's).
const MetadataRetryAfter = "retry_after_seconds"

func (e *ThrottledError) Error() string {
	return "too many messages; retry later (" + reasons.MessagesThrottled + "): ResourceExhausted"
}

// GRPCStatus is the status with its ErrorInfo.
func (e *ThrottledError) GRPCStatus() *status.Status {
	secs := int((e.RetryAfter + time.Second - 1) / time.Second)
	st := status.New(codes.ResourceExhausted, "too many messages; retry later")
	with, err := st.WithDetails(&errdetails.ErrorInfo{Reason: reasons.MessagesThrottled, Domain: errs.Domain,
		Metadata: map[string]string{MetadataRetryAfter: strconv.Itoa(max(secs, 1))}})
	if err != nil {
		return st
	}
	return with
}

// Observation is one event to count: a Kind and the keyed digest that
// makes it distinct (a value's digest, or a fresh id for a message).
type Observation struct {
	Kind   Kind
	Digest string
}

// Message returns the observations of a message's text before it is
// pseudonymised: one for velocity, and one for prompt injection when the
// text holds a pattern. The text stays in memory.
func Message(text string) []Observation {
	obs := []Observation{{Kind: Velocity, Digest: newID("evt_")}}
	if DetectInjection(text).Found {
		obs = append(obs, Observation{Kind: PromptInjection, Digest: newID("evt_")})
	}
	return obs
}

// Value is a placeholder the message path gave out for a new value: its
// PII type and the keyed digest of its value (the placeholder map's).
type Value struct {
	Type   string
	Digest string
}

// Values returns the observations of a pseudonymised message: distinct
// cards (card testing) and e-mail addresses (account takeover) by the
// digests the message path keeps, and order numbers in the placeholder
// text (enumeration) by a digest of their own.
func (m *Monitor) Values(tenant string, vs []Value, placeholderText string) []Observation {
	var obs []Observation
	for _, v := range vs {
		switch v.Type {
		case "CARD":
			obs = append(obs, Observation{Kind: CardTesting, Digest: v.Digest})
		case "EMAIL":
			obs = append(obs, Observation{Kind: AccountTakeover, Digest: v.Digest})
		}
	}
	for _, n := range OrderNumbers(placeholderText) {
		obs = append(obs, Observation{Kind: OrderEnumeration, Digest: m.digest(orderTag, tenant, n)})
	}
	return obs
}

// Outcome is what Observe decided.
type Outcome struct {
	// Refuse, when set, is the error the message is refused with: nothing
	// of it may be stored.
	Refuse error
	// HandOff: a rule hands the conversation to an agent.
	HandOff bool
	// Raised are the signals raised.
	Raised []storage.Signal

	// keys and recent are Screen's, for ObserveAfter.
	keys   map[Scope]string
	recent []storage.Signal
}

// Observe counts the observations over each of the subject's scopes that
// a rule watches, raises the signals whose threshold is reached (one per
// rule and scope while the last is live), stores and audits them in one
// transaction, and says what the message path must do.
func (m *Monitor) Observe(ctx context.Context, s Subject, obs []Observation) (Outcome, error) {
	if len(obs) == 0 {
		return Outcome{}, nil
	}
	now := m.now()
	keys := m.keys(s)
	recent, err := m.recent(ctx, keys, now)
	if err != nil {
		return Outcome{}, err
	}
	return m.observe(ctx, s, keys, obs, recent, now)
}

// ObserveAfter is Observe for a message Screen has seen (first is what
// Screen answered): it counts on the signals Screen read and those it
// raised, instead of reading them again. A signal another post raised in
// between may then be raised once more for the same rule: a duplicate row,
// as with two replicas (see the package documentation), never a missed
// one. Without Screen's answer it is Observe.
func (m *Monitor) ObserveAfter(ctx context.Context, s Subject, first Outcome, obs []Observation) (Outcome, error) {
	if first.keys == nil {
		return m.Observe(ctx, s, obs)
	}
	if len(obs) == 0 {
		return first.carry(Outcome{}), nil
	}
	out, err := m.observe(ctx, s, first.keys, obs, first.recent, m.now())
	if err != nil {
		return out, err
	}
	return first.carry(out), nil
}

// carry gives out what a later ObserveAfter of the same message counts
// on: first's keys and signals, with those out raised.
func (first Outcome) carry(out Outcome) Outcome {
	out.keys, out.recent = first.keys, append(slices.Clip(first.recent), out.Raised...)
	return out
}

func (m *Monitor) observe(ctx context.Context, s Subject, keys map[Scope]string, obs []Observation, recent []storage.Signal, now time.Time) (Outcome, error) {
	if len(obs) == 0 {
		return Outcome{}, nil
	}
	m.prune(ctx, now)
	rules := m.d.Policy.For(s.Tenant)
	// Events are recorded only for the (kind, scope) pairs a rule counts.
	watched := map[[2]int32]bool{}
	for _, r := range rules {
		if _, ok := keys[r.Scope]; ok {
			watched[[2]int32{int32(r.Kind), int32(r.Scope)}] = true
		}
	}
	var evs []scoped
	for _, o := range obs {
		for scope, key := range keys {
			if watched[[2]int32{int32(o.Kind), int32(scope)}] {
				evs = append(evs, scoped{storage.SignalEvent{ScopeKey: key, Kind: int32(o.Kind), ValueDigest: o.Digest}, scope})
			}
		}
	}
	if len(evs) == 0 {
		return Outcome{}, nil
	}
	if err := m.add(ctx, evs, now); err != nil {
		return Outcome{}, err
	}
	observed := map[Kind]bool{}
	for _, o := range obs {
		observed[o.Kind] = true
	}
	// The rules to count, counted in one statement.
	var counted []Rule
	var counts []storage.SignalCount
	for _, r := range rules {
		key, ok := keys[r.Scope]
		if !ok || !observed[r.Kind] {
			continue
		}
		since := now.Add(-r.Window)
		// A rule whose signal is live raises nothing more in its window:
		// it is not counted again.
		if live(recent, key, r, since, now) {
			continue
		}
		counted = append(counted, r)
		counts = append(counts, storage.SignalCount{ScopeKey: key, Kind: int32(r.Kind), Since: since, Limit: r.Threshold})
	}
	ns, err := m.count(ctx, counts)
	if err != nil {
		return Outcome{}, err
	}
	var raised []storage.Signal
	for i, r := range counted {
		key, n := keys[r.Scope], ns[i]
		if n < r.Threshold {
			continue
		}
		g := storage.Signal{ID: newID("sig_"), Tenant: s.Tenant, Kind: int32(r.Kind), Scope: int32(r.Scope), ScopeKey: key,
			ConversationID: s.ConversationID, Action: int32(r.Action), Count: n, CreateTime: now}
		if r.Action.lasting() {
			g.ExpireTime = now.Add(r.For)
		}
		raised = append(raised, g)
	}
	if len(raised) == 0 {
		return Outcome{}, nil
	}
	out := Outcome{Raised: raised, Refuse: m.refusal(s, raised, now)}
	if err := m.store(ctx, s, raised, out.Refuse != nil); err != nil {
		return Outcome{}, err
	}
	for _, g := range raised {
		out.HandOff = out.HandOff || Action(g.Action) == HandOff
	}
	if out.Refuse != nil {
		m.refused.Add(ctx, 1, metric.WithAttributes(attribute.String("kind", Kind(raised[0].Kind).String()), attribute.String("action", actionOf(out.Refuse).String())))
	}
	return out, nil
}

// add records the events: in memory, or in signal_events.
func (m *Monitor) add(ctx context.Context, evs []scoped, now time.Time) error {
	if m.mem == nil {
		plain := make([]storage.SignalEvent, len(evs))
		for i, e := range evs {
			plain[i] = e.SignalEvent
		}
		return m.d.Store.AddSignalEvents(ctx, plain, now)
	}
	for _, e := range evs {
		l := m.limits[[2]int32{e.Kind, int32(e.scope)}]
		m.mem.add(e.ScopeKey, e.Kind, e.ValueDigest, now, l.capacity, l.span)
	}
	return nil
}

// count is each count's number of distinct events, up to its limit.
func (m *Monitor) count(ctx context.Context, cs []storage.SignalCount) ([]int, error) {
	if m.mem == nil {
		return m.d.Store.CountSignalEventsEach(ctx, cs)
	}
	ns := make([]int, len(cs))
	for i, c := range cs {
		ns[i] = m.mem.count(c.ScopeKey, c.Kind, c.Since, c.Limit)
	}
	return ns, nil
}

// live reports a signal of the rule over key raised after since and
// neither cleared nor over at now.
func live(recent []storage.Signal, key string, r Rule, since, now time.Time) bool {
	for _, g := range recent {
		if g.ScopeKey == key && Kind(g.Kind) == r.Kind && Action(g.Action) == r.Action && g.CreateTime.After(since) &&
			(g.ExpireTime.IsZero() || g.ExpireTime.After(now)) && g.ClearTime.IsZero() {
			return true
		}
	}
	return false
}

// store inserts the signals and their audit events in one transaction,
// then counts and logs them (ids, kinds and counts only).
func (m *Monitor) store(ctx context.Context, s Subject, raised []storage.Signal, refused bool) error {
	outcome := auditclient.Success
	if refused {
		outcome = auditclient.Denied
	}
	evs := make([]auditclient.Event, len(raised))
	for i, g := range raised {
		ev := auditclient.New(auditclient.WithEndUser(ctx, s.Subject), ActionSignal, outcome)
		ev.Subject, ev.ResourceType, ev.ResourceID = s.CustomerSubject, resourceSignal, g.ID
		ev.Reason = strings.ToUpper(Kind(g.Kind).String())
		evs[i] = ev
	}
	err := m.d.Store.InTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for _, g := range raised {
			if err := m.d.Store.InsertSignal(ctx, tx, g); err != nil {
				return err
			}
		}
		return m.d.Audit.Enqueue(ctx, tx, evs...)
	})
	if err != nil {
		return err
	}
	if m.recents != nil {
		m.recents.stored(raised)
	}
	m.d.Audit.Notify()
	for _, g := range raised {
		m.signals.Add(ctx, 1, metric.WithAttributes(attribute.String("kind", Kind(g.Kind).String()), attribute.String("action", Action(g.Action).String())))
		m.d.Logger.WarnContext(ctx, "suspicious activity", "signal", g.ID, "conversation", g.ConversationID,
			"kind", Kind(g.Kind).String(), "scope", Scope(g.Scope).String(), "action", Action(g.Action).String(), "count", g.Count)
	}
	return nil
}

// pruneEvery is how often a replica deletes events older than every
// window.
const pruneEvery = time.Minute

func (m *Monitor) prune(ctx context.Context, now time.Time) {
	m.pruneMu.Lock()
	if now.Sub(m.lastPrune) < pruneEvery {
		m.pruneMu.Unlock()
		return
	}
	m.lastPrune = now
	m.pruneMu.Unlock()
	if m.mem != nil {
		m.mem.sweep(now)
	}
	// In memory too: events a database-counting run of the same file
	// left behind.
	if _, err := m.d.Store.PruneSignalEvents(ctx, now.Add(-m.d.Policy.maxWindow)); err != nil {
		m.d.Logger.WarnContext(ctx, "signal events not pruned", "reason", errs.ReasonOf(err))
	}
}

// List pages through signals, newest first (a conversation's only, when
// conversationID is set).
func (m *Monitor) List(ctx context.Context, conversationID string, cur *storage.SignalCursor, limit int) ([]storage.Signal, error) {
	return m.d.Store.ListSignals(ctx, conversationID, cur, limit)
}

// Clear lifts a signal's throttle, step-up or block (a staff member's
// decision, audited with them as the actor).
func (m *Monitor) Clear(ctx context.Context, staffSubject, id string) (storage.Signal, error) {
	now := m.now()
	var g storage.Signal
	err := m.d.Store.InTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		if g, err = m.d.Store.GetSignal(ctx, tx, id); err != nil {
			return err
		}
		if !g.ClearTime.IsZero() {
			return nil
		}
		g.ClearTime = now
		if err := m.d.Store.ClearSignal(ctx, tx, id, now); err != nil {
			return err
		}
		ev := auditclient.New(auditclient.WithEndUser(ctx, staffSubject), ActionClear, auditclient.Success)
		ev.ResourceType, ev.ResourceID = resourceSignal, g.ID
		return m.d.Audit.Enqueue(ctx, tx, ev)
	})
	if err != nil {
		return storage.Signal{}, err
	}
	if m.recents != nil {
		m.recents.cleared(g)
	}
	m.d.Audit.Notify()
	return g, nil
}

// InspectToolOutput checks what a tool returned to the assistant (an
// order's note, a product description: text a third party may have
// written) for prompt injection, and counts a finding as a
// PROMPT_INJECTION event of the conversation, raising a signal by the
// policy. The caller (the assistant) must not give output with a finding
// to a model. The error is the store's; a refusal is Outcome.Refuse.
func (m *Monitor) InspectToolOutput(ctx context.Context, s Subject, output string) (Injection, Outcome, error) {
	f := DetectInjection(output)
	if !f.Found {
		return f, Outcome{}, nil
	}
	// Counted over the conversation only: a third party wrote the output,
	// not the customer, whose account and address it must not taint.
	conv := Subject{Tenant: s.Tenant, ConversationID: s.ConversationID, CustomerSubject: s.CustomerSubject}
	out, err := m.Observe(ctx, conv, []Observation{{Kind: PromptInjection, Digest: newID("evt_")}})
	return f, out, err
}
