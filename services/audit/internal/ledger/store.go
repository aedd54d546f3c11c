package ledger

import (
	"context"
	"time"

	"github.com/transparency-dev/merkle/compact"
)

// Entry is one leaf of the log together with the columns it is indexed by.
// Data is the only field that verification trusts; the rest are derived from
// it at append time so that queries need not decode every leaf.
type Entry struct {
	Index            int64
	EventID          string
	Data             []byte
	InputDigest      []byte // what was submitted, by whom (see SubjectHasher.Digest)
	LeafHash         []byte // set by EntriesRange only
	SubjectHash      string
	ActorSubjectHash string
	ActorWorkload    string
	Action           string
	OccurTime        time.Time
}

// Logged is what the log knows of an event ID it holds.
type Logged struct {
	Index       int64
	InputDigest []byte
}

// Node is a perfect subtree hash.
type Node struct {
	ID   compact.NodeID
	Hash []byte
}

// Checkpoint is a signed tree head.
type Checkpoint struct {
	Size     int64
	Root     []byte
	Note     []byte
	SignTime time.Time
}

// Filter selects entries for listing. Empty fields do not filter. Hash lists
// match any of their values (one per HMAC key version).
type Filter struct {
	SubjectHashes      []string
	ActorSubjectHashes []string
	ActorWorkload      string
	Action             string
	Start, End         time.Time
	// AfterIndex lists entries with a larger index (-1 for all).
	AfterIndex int64
	Limit      int
}

// Store is what the log needs from its database. internal/storage implements
// it for SQLite and PostgreSQL.
type Store interface {
	// TreeSize is the committed number of leaves.
	TreeSize(ctx context.Context) (int64, error)
	// Nodes returns the hashes of the given perfect subtree nodes, in order.
	Nodes(ctx context.Context, ids []compact.NodeID) ([][]byte, error)
	// FindEvents returns, for each given event ID already logged, its leaf
	// index and input digest.
	FindEvents(ctx context.Context, eventIDs []string) (map[string]Logged, error)
	// Append commits entries and their new tree nodes in one transaction if the
	// committed size is still fromSize, and returns ErrConflict otherwise.
	Append(ctx context.Context, fromSize int64, entries []Entry, nodes []Node) error
	Entry(ctx context.Context, eventID string) (Entry, error)
	ListEntries(ctx context.Context, f Filter) ([]Entry, error)
	// CountSubject counts the entries whose subject column is one of
	// hashes (the subject's HMAC under each key version).
	CountSubject(ctx context.Context, hashes []string) (int64, error)
	// EntriesRange returns up to limit entries from start, with leaf hashes.
	EntriesRange(ctx context.Context, start int64, limit int) ([]Entry, error)

	PutCheckpoint(ctx context.Context, c Checkpoint) error
	LatestCheckpoint(ctx context.Context) (Checkpoint, error)
	ListCheckpoints(ctx context.Context, afterSize int64, limit int) ([]Checkpoint, error)

	// HMACKeys returns the wrapped subject-HMAC keys by version.
	HMACKeys(ctx context.Context) (map[int][]byte, error)
	// AddHMACKey stores a wrapped key; AlreadyExists if the version is taken.
	AddHMACKey(ctx context.Context, version int, wrapped []byte) error
}
