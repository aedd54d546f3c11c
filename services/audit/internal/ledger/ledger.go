// Package ledger is the audit log itself: it turns submitted events into
// leaves of an RFC 6962 Merkle tree, commits them in batches through a single
// sequencer, signs checkpoints in the C2SP signed-note format, and serves
// inclusion and consistency proofs. The hashing and proof algorithms are
// github.com/transparency-dev/merkle's; nothing here re-implements them.
package ledger

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/groupcommit"
	"github.com/sottohq/sotto/services/audit/internal/reasons"
)

// ErrConflict means another writer moved the tree head; the sequencer reloads
// its state and retries.
var ErrConflict = errors.New("tree head moved")

// Hasher is the RFC 6962 SHA-256 hasher used for every leaf and node.
var Hasher = rfc6962.DefaultHasher

var rangeFactory = &compact.RangeFactory{Hash: Hasher.HashChildren}

// Submission is one event to append, with the identity of the workload that
// submitted it (from its mTLS certificate, never from the request body).
type Submission struct {
	Workload string
	Event    *auditv1.EventInput
}

// Result says where a submission landed.
type Result struct {
	EventID   string
	Index     int64
	Duplicate bool
}

// Options tune the log.
type Options struct {
	// MaxBatch bounds the events of one commit; a request is never split,
	// so one larger than this commits alone.
	MaxBatch int
	// CheckpointInterval is how often a new checkpoint is signed when the tree grew.
	CheckpointInterval time.Duration
	// Now is the clock (tests inject one).
	Now func() time.Time
	// Standby starts the log without sequencing: replicas share the
	// database and one of them, elected (internal/leader, ADR 0017), is the
	// sequencer. Until Lead, appends are refused as Unavailable and no
	// checkpoint is signed; reads are served from the database.
	Standby bool
}

// Log is the audit log. Append may be called concurrently; concurrent
// appends share transactions (group commit), and one commit runs at a time,
// so this process is a single writer (the sequencer).
type Log struct {
	store   Store
	subject *SubjectHasher
	signer  *CheckpointSigner
	logger  *slog.Logger
	opts    Options

	appends *groupcommit.Batcher[[]Submission, []Result]

	mu  sync.Mutex // guards rng; only the sequencer writes it
	rng *compact.Range

	// leading: this replica is the sequencer. The tree head's
	// compare-and-set (Store.Append) keeps the log consistent even if two
	// replicas briefly both believe they lead; this flag keeps them from
	// contending in the first place.
	leading atomic.Bool
}

// New builds the log. Call Init before the first Append, and Run to sign
// checkpoints (and to stop appending at shutdown).
func New(store Store, subject *SubjectHasher, signer *CheckpointSigner, logger *slog.Logger, opts Options) *Log {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 4096
	}
	if opts.CheckpointInterval <= 0 {
		opts.CheckpointInterval = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	l := &Log{store: store, subject: subject, signer: signer, logger: logger, opts: opts}
	l.leading.Store(!opts.Standby)
	l.appends = groupcommit.New(l.commit, groupcommit.Options[[]Submission]{
		MaxBatch: opts.MaxBatch,
		Weight:   func(subs []Submission) int { return len(subs) },
	})
	return l
}

// Origin is the checkpoint origin line.
func (l *Log) Origin() string { return l.signer.Origin() }

// VerifierKey is the note verifier key of the current signing key.
func (l *Log) VerifierKey() string { return l.signer.VerifierKey() }

// Init loads the tree state and, on the sequencer, makes sure a checkpoint
// for it exists.
func (l *Log) Init(ctx context.Context) error {
	if err := l.reload(ctx); err != nil {
		return err
	}
	if !l.leading.Load() {
		return nil
	}
	_, err := l.Checkpoint(ctx)
	return err
}

// Lead makes this replica the sequencer: the tree the previous one left is
// loaded, a checkpoint for it is signed, and appends are accepted. Call it
// only while holding the election (internal/leader).
func (l *Log) Lead(ctx context.Context) error {
	if err := l.reload(ctx); err != nil {
		return err
	}
	l.leading.Store(true)
	if _, err := l.Checkpoint(ctx); err != nil {
		// The appends can go on; the ticker signs again.
		l.logger.Warn("checkpoint on taking over failed", "error_kind", errs.KindOf(err).String(), "reason", errs.ReasonOf(err))
	}
	return nil
}

// StepDown stops sequencing: appends not yet committed are refused as
// Unavailable (their callers retry, on the new sequencer) and no further
// checkpoint is signed here.
func (l *Log) StepDown() { l.leading.Store(false) }

// Sequencing says whether this replica is the sequencer.
func (l *Log) Sequencing() bool { return l.leading.Load() }

func notSequencer() error {
	return errs.E(errs.Unavailable, reasons.NotSequencer, "this audit replica is a standby; another one sequences the log")
}

// reload rebuilds the in-memory compact range from the committed tree.
func (l *Log) reload(ctx context.Context) error {
	size, err := l.store.TreeSize(ctx)
	if err != nil {
		return err
	}
	ids := compact.RangeNodes(0, uint64(size), nil)
	hashes, err := l.store.Nodes(ctx, ids)
	if err != nil {
		return err
	}
	rng, err := rangeFactory.NewRange(0, uint64(size), hashes)
	if err != nil {
		return errs.Wrap(err, errs.Internal, reasons.TreeCorrupt, "stored tree is inconsistent")
	}
	l.mu.Lock()
	l.rng = rng
	l.mu.Unlock()
	return nil
}

// Run signs checkpoints until ctx is done, in a goroutine of their own:
// signing may wait on the key backend (Vault), and appends must not wait
// behind it. When ctx ends, appends still queued fail with Unavailable and
// Run returns once the commit in flight has.
func (l *Log) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		ticker := time.NewTicker(l.opts.CheckpointInterval)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
				if !l.leading.Load() {
					continue
				}
				if _, err := l.Checkpoint(ctx); err != nil && ctx.Err() == nil {
					l.logger.Warn("checkpoint failed", "error_kind", errs.KindOf(err).String(), "reason", errs.ReasonOf(err))
				}
			}
		}
	})
	return l.appends.Run(ctx)
}

// Append appends submissions and returns once they are durably committed.
// One request is never split: all of it lands in one transaction.
func (l *Log) Append(ctx context.Context, subs []Submission) ([]Result, error) {
	if !l.leading.Load() {
		return nil, notSequencer()
	}
	res, err := l.appends.Submit(ctx, subs)
	if errors.Is(err, groupcommit.ErrStopped) {
		return nil, errs.Wrap(err, errs.Unavailable, reasons.AuditShuttingDown, "audit log is shutting down")
	}
	// On a context error the batch may still commit; the caller retries by
	// event ID, which is idempotent.
	return res, err
}

// commit writes one group of append requests in one transaction. The
// store's append is a compare-and-set on the tree size: if another writer
// moved the head, the tree is reloaded and the group tried again.
func (l *Log) commit(ctx context.Context, batch [][]Submission) ([]groupcommit.Result[[]Result], error) {
	var res []groupcommit.Result[[]Result]
	var err error
	if !l.leading.Load() {
		// Stepped down while these waited: the new sequencer takes them.
		return nil, notSequencer()
	}
	for attempt := 0; attempt < 3; attempt++ {
		if res, err = l.tryCommit(ctx, batch); !errors.Is(err, ErrConflict) {
			break
		}
		l.logger.Warn("tree head moved; reloading", "attempt", attempt)
		if rerr := l.reload(ctx); rerr != nil {
			return nil, rerr
		}
	}
	if errors.Is(err, ErrConflict) {
		return nil, errs.E(errs.Aborted, reasons.TreeContention, "concurrent writers; retry")
	}
	return res, err
}

// tryCommit answers each request of the batch: its results, or its own
// refusal.
func (l *Log) tryCommit(ctx context.Context, batch [][]Submission) ([]groupcommit.Result[[]Result], error) {
	var ids []string
	for _, subs := range batch {
		for _, s := range subs {
			ids = append(ids, s.Event.GetEventId())
		}
	}
	known, err := l.store.FindEvents(ctx, ids)
	if err != nil {
		return nil, err
	}

	l.mu.Lock()
	rng := l.rng
	l.mu.Unlock()
	from := int64(rng.End())
	// Work on a copy so that a failed commit leaves the committed state intact.
	work, err := rangeFactory.NewRange(0, rng.End(), append([][]byte(nil), rng.Hashes()...))
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, reasons.TreeCorrupt, "tree state is inconsistent")
	}

	now := l.opts.Now().UTC()
	var entries []Entry
	var nodes []Node
	visit := func(id compact.NodeID, hash []byte) { nodes = append(nodes, Node{ID: id, Hash: hash}) }
	out := make([]groupcommit.Result[[]Result], len(batch))
	for r, subs := range batch {
		digests := make([][]byte, len(subs))
		// First decide, for the whole request, whether any event ID is taken
		// by a different event; then the request is refused as a whole and
		// nothing of it is appended.
		mine := map[string][]byte{}
		for i, s := range subs {
			digests[i] = l.subject.Digest(s.Workload, s.Event)
			id := s.Event.GetEventId()
			prev, ok := known[id]
			if !ok {
				if d, seen := mine[id]; seen {
					prev, ok = Logged{InputDigest: d}, true
				}
			}
			if ok && !bytes.Equal(prev.InputDigest, digests[i]) {
				out[r].Err = errs.E(errs.AlreadyExists, reasons.EventIdConflict, "event_id is already used by a different event")
				break
			}
			mine[id] = digests[i]
		}
		if out[r].Err != nil {
			continue
		}
		res := make([]Result, len(subs))
		for i, s := range subs {
			id := s.Event.GetEventId()
			if prev, ok := known[id]; ok {
				res[i] = Result{EventID: id, Index: prev.Index, Duplicate: true}
				continue
			}
			e, err := l.entry(ctx, s, now)
			if err != nil {
				return nil, err
			}
			e.Index = int64(work.End())
			e.InputDigest = digests[i]
			if err := work.Append(Hasher.HashLeaf(e.Data), visit); err != nil {
				return nil, errs.Wrap(err, errs.Internal, reasons.TreeCorrupt, "tree append failed")
			}
			known[id] = Logged{Index: e.Index, InputDigest: e.InputDigest}
			entries = append(entries, e)
			res[i] = Result{EventID: id, Index: e.Index}
		}
		out[r].Value = res
	}
	if len(entries) == 0 {
		return out, nil
	}
	if err := l.store.Append(ctx, from, entries, nodes); err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.rng = work
	l.mu.Unlock()
	return out, nil
}

// entry builds the stored form of a submission: subject identifiers are
// replaced by keyed HMACs here, before anything is written.
func (l *Log) entry(ctx context.Context, s Submission, now time.Time) (Entry, error) {
	in := s.Event
	subjectHash, version, err := l.subject.Hash(ctx, in.GetSubject())
	if err != nil {
		return Entry{}, err
	}
	actorHash, _, err := l.subject.Hash(ctx, in.GetActorSubject())
	if err != nil {
		return Entry{}, err
	}
	// Times are kept to the microsecond, the precision of the search index.
	occurred := in.GetOccurTime().AsTime().Truncate(time.Microsecond)
	ev := &auditv1.Event{
		EventId:          in.GetEventId(),
		OccurTime:        timestamppb.New(occurred),
		RecordTime:       timestamppb.New(now.Truncate(time.Microsecond)),
		ActorWorkload:    s.Workload,
		ActorSubjectHash: actorHash,
		SubjectHash:      subjectHash,
		Action:           in.GetAction(),
		ResourceType:     in.GetResourceType(),
		ResourceId:       in.GetResourceId(),
		Purpose:          in.GetPurpose(),
		Outcome:          in.GetOutcome(),
		Reason:           in.GetReason(),
		TraceId:          in.GetTraceId(),
		HmacKeyVersion:   int32(version),
		CallerWorkload:   in.GetCallerWorkload(),
	}
	data, err := proto.MarshalOptions{Deterministic: true}.Marshal(ev)
	if err != nil {
		return Entry{}, errs.Wrap(err, errs.Internal, reasons.EncodeFailed, "could not encode event")
	}
	return Entry{
		EventID:          ev.EventId,
		Data:             data,
		SubjectHash:      subjectHash,
		ActorSubjectHash: actorHash,
		ActorWorkload:    s.Workload,
		Action:           ev.Action,
		OccurTime:        occurred,
	}, nil
}

// DecodeEntry turns stored leaf data back into the event it records.
func DecodeEntry(e Entry) (*auditv1.Event, error) {
	ev := &auditv1.Event{}
	if err := proto.Unmarshal(e.Data, ev); err != nil {
		return nil, errs.Wrap(err, errs.Internal, reasons.EntryCorrupt, "stored entry cannot be decoded")
	}
	ev.LeafIndex = e.Index
	return ev, nil
}

// Size is the committed tree size as the sequencer sees it.
func (l *Log) Size() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(l.rng.End())
}

// root returns the root hash of the in-memory tree and its size.
func (l *Log) root() ([]byte, int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	size := int64(l.rng.End())
	if size == 0 {
		return Hasher.EmptyRoot(), 0, nil
	}
	r, err := l.rng.GetRootHash(nil)
	return r, size, err
}

// Checkpoint signs and stores a checkpoint for the current tree if the latest
// one is older, and returns the latest.
func (l *Log) Checkpoint(ctx context.Context) (Checkpoint, error) {
	latest, err := l.store.LatestCheckpoint(ctx)
	if err != nil && !errs.Is(err, errs.NotFound) {
		return Checkpoint{}, err
	}
	root, size, err := l.root()
	if err != nil {
		return Checkpoint{}, errs.Wrap(err, errs.Internal, reasons.TreeCorrupt, "cannot compute root")
	}
	if latest.Note != nil && latest.Size >= size {
		return latest, nil
	}
	signed, err := l.signer.Sign(ctx, uint64(size), root)
	if err != nil {
		return Checkpoint{}, err
	}
	c := Checkpoint{Size: size, Root: root, Note: signed, SignTime: l.opts.Now().UTC()}
	if err := l.store.PutCheckpoint(ctx, c); err != nil {
		return Checkpoint{}, err
	}
	return c, nil
}

// LatestCheckpoint returns the newest stored checkpoint.
func (l *Log) LatestCheckpoint(ctx context.Context) (Checkpoint, error) {
	return l.store.LatestCheckpoint(ctx)
}

// resolveSize turns 0 into the latest checkpoint's size and refuses sizes
// beyond the log. Other sizes need not have a checkpoint: a verifier holding
// a signed tree head of that size checks the proof against it.
func (l *Log) resolveSize(ctx context.Context, size int64) (int64, error) {
	if size == 0 {
		c, err := l.store.LatestCheckpoint(ctx)
		if err != nil {
			return 0, err
		}
		return c.Size, nil
	}
	current := l.Size()
	if !l.leading.Load() {
		// A standby's tree is the one it last loaded; the database's is current.
		var err error
		if current, err = l.store.TreeSize(ctx); err != nil {
			return 0, err
		}
	}
	if size > current {
		return 0, errs.E(errs.InvalidArgument, reasons.TreeSizeTooLarge, "tree size is larger than the log")
	}
	return size, nil
}

// InclusionProof proves the event's inclusion in the tree of the given size
// (0 = latest checkpoint).
func (l *Log) InclusionProof(ctx context.Context, eventID string, size int64) (index, treeSize int64, hashes [][]byte, err error) {
	e, err := l.store.Entry(ctx, eventID)
	if err != nil {
		return 0, 0, nil, err
	}
	if treeSize, err = l.resolveSize(ctx, size); err != nil {
		return 0, 0, nil, err
	}
	if e.Index >= treeSize {
		return 0, 0, nil, errs.E(errs.FailedPrecondition, reasons.EventNotYetCheckpointed, "event is not in a tree of that size yet")
	}
	nodes, err := proof.Inclusion(uint64(e.Index), uint64(treeSize))
	if err != nil {
		return 0, 0, nil, errs.Wrap(err, errs.InvalidArgument, reasons.InvalidProofRequest, "invalid proof request")
	}
	hashes, err = l.rehash(ctx, nodes)
	return e.Index, treeSize, hashes, err
}

// ConsistencyProof proves that the tree of size to (0 = latest checkpoint)
// extends the tree of size from.
func (l *Log) ConsistencyProof(ctx context.Context, from, to int64) (int64, [][]byte, error) {
	to, err := l.resolveSize(ctx, to)
	if err != nil {
		return 0, nil, err
	}
	if from > to {
		return 0, nil, errs.E(errs.InvalidArgument, reasons.InvalidProofRequest, "from_size is larger than to_size")
	}
	nodes, err := proof.Consistency(uint64(from), uint64(to))
	if err != nil {
		return 0, nil, errs.Wrap(err, errs.InvalidArgument, reasons.InvalidProofRequest, "invalid proof request")
	}
	hashes, err := l.rehash(ctx, nodes)
	return to, hashes, err
}

func (l *Log) rehash(ctx context.Context, nodes proof.Nodes) ([][]byte, error) {
	hashes, err := l.store.Nodes(ctx, nodes.IDs)
	if err != nil {
		return nil, err
	}
	out, err := nodes.Rehash(hashes, Hasher.HashChildren)
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, reasons.TreeCorrupt, "cannot build proof")
	}
	return out, nil
}

// Event returns one event by ID.
func (l *Log) Event(ctx context.Context, eventID string) (*auditv1.Event, error) {
	e, err := l.store.Entry(ctx, eventID)
	if err != nil {
		return nil, err
	}
	ev, err := DecodeEntry(e)
	if err == nil && ev.GetEventId() != eventID {
		// The index column was edited: never serve another event in its place.
		return nil, errs.E(errs.Internal, reasons.EntryCorrupt, "stored entry does not match its index")
	}
	return ev, err
}

// Query selects events; raw subject identifiers are hashed here.
type Query struct {
	Subject, ActorSubject string
	ActorWorkload, Action string
	Start, End            time.Time
	AfterIndex            int64
	Limit                 int
}

// List returns the events matching q, in log order.
func (l *Log) List(ctx context.Context, q Query) ([]*auditv1.Event, error) {
	f := Filter{ActorWorkload: q.ActorWorkload, Action: q.Action,
		Start: q.Start.Truncate(time.Microsecond), End: q.End.Truncate(time.Microsecond),
		AfterIndex: q.AfterIndex, Limit: q.Limit}
	if q.Subject != "" {
		f.SubjectHashes = l.subject.HashAll(q.Subject)
	}
	if q.ActorSubject != "" {
		f.ActorSubjectHashes = l.subject.HashAll(q.ActorSubject)
	}
	entries, err := l.store.ListEntries(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]*auditv1.Event, 0, len(entries))
	for _, e := range entries {
		ev, err := DecodeEntry(e)
		if err != nil {
			return nil, err
		}
		if !matches(ev, f) {
			// The search columns disagree with the hashed entry: someone edited
			// the database. Fail rather than answer from altered indexes.
			return nil, errs.E(errs.Internal, reasons.EntryCorrupt, "stored entry does not match its index")
		}
		out = append(out, ev)
	}
	return out, nil
}

// CountSubject counts the events about subject, under every HMAC key
// version. The count comes from the subject column, which `sotto audit
// verify` checks against each entry's bytes; it is evidence for a
// data-subject request, not an answer built from entries.
func (l *Log) CountSubject(ctx context.Context, subject string) (int64, error) {
	return l.store.CountSubject(ctx, l.subject.HashAll(subject))
}

// matches re-applies a filter to a decoded event.
func matches(ev *auditv1.Event, f Filter) bool {
	in := func(v string, set []string) bool { return len(set) == 0 || slices.Contains(set, v) }
	t := ev.GetOccurTime().AsTime()
	return in(ev.GetSubjectHash(), f.SubjectHashes) &&
		in(ev.GetActorSubjectHash(), f.ActorSubjectHashes) &&
		(f.ActorWorkload == "" || ev.GetActorWorkload() == f.ActorWorkload) &&
		(f.Action == "" || ev.GetAction() == f.Action) &&
		(f.Start.IsZero() || !t.Before(f.Start)) &&
		(f.End.IsZero() || t.Before(f.End)) &&
		ev.GetLeafIndex() > f.AfterIndex
}

// Entries returns raw entries from start, with their stored leaf hashes.
func (l *Log) Entries(ctx context.Context, start int64, limit int) ([]Entry, error) {
	return l.store.EntriesRange(ctx, start, limit)
}

// Checkpoints lists stored checkpoints after the given size.
func (l *Log) Checkpoints(ctx context.Context, afterSize int64, limit int) ([]Checkpoint, error) {
	return l.store.ListCheckpoints(ctx, afterSize, limit)
}
