// Package events is a transactional outbox for domain events: a service
// publishes an event in the transaction that makes the change it describes
// (both commit or neither does), and the event log it lands in feeds
// server-streaming change feeds (consent withdrawals, session revocations)
// and relays that push events to other services.
//
//	tx ──Publish──▶ event_outbox (seq, id, topic, key, payload [sealed])
//	                   │
//	                   ├──▶ Feed: backlog, then live; resumes from a cursor
//	                   ├──▶ Relay: per-consumer cursor (event_consumers), at least once
//	                   └──▶ Trim: past the retention and every consumer
//
// The tables are in the platform schema (pkg/migrations 0002), so every
// service with a database has them; pkg/service's Events wires an Outbox
// with its trim task, RelayEvents a relay.
//
// # Ordering: a reader never skips a committed event
//
// Each event gets a seq from the database (BIGSERIAL, SQLite AUTOINCREMENT)
// and readers resume "after seq N". That is only sound if no event with a
// seq at or below N can still commit once a reader has read N. SQLite's
// single writer guarantees it. On PostgreSQL a sequence does not: A draws
// 5, B draws 6 and commits first, a reader sees 6 and moves on, then A
// commits 5 behind it. So Publish first takes a transaction-level advisory
// lock (pg_advisory_xact_lock), held until the transaction ends: a seq is
// drawn only after every transaction that drew a lower one has committed or
// rolled back, and a reader that sees seq N can rely on everything below N.
// TestOutOfOrderCommitIsNotSkipped shows the failure without the lock.
//
// The price is that publishing transactions of one database commit one
// after another from the moment they publish, so Publish belongs at the end
// of a transaction. That suits the topics this is for (hundreds of events a
// second at most). Two alternatives were weighed: reading only below the
// oldest running transaction ID (pg_snapshot_xmin) leaves publishers alone
// but lets any long writing transaction on the server hold back every feed,
// and a revocation feed's latency matters; numbering events after commit
// (a sequencer) adds a process that must run for anything to be delivered.
//
// Readers also learn how far they have read even when nothing matched
// their topics (the head: the highest committed seq, below which
// everything has committed), so an idle, filtered feed's cursor and a quiet
// consumer's cursor keep moving and neither expires nor holds back Trim.
//
// # Cursors
//
// A cursor is opaque to clients: base64url of a format version, the log's
// random identity (made when the schema was created) and a seq. It is not
// signed: a position grants nothing (every event from any position is one
// the RPC's authorisation already lets the caller read), so a forged cursor
// is no better than a real one and a signing key would be one more secret
// for replicas to share. What is checked is what would make a client
// silently miss events: a cursor of another log (another database, or the
// tables were recreated), one ahead of the log (restored from a backup), or
// one older than the retention is FailedPrecondition CURSOR_EXPIRED, and the
// client must resynchronise; anything else that is not a cursor this log
// issued is InvalidArgument INVALID_CURSOR.
//
// # Sealed payloads
//
// With a Sealer, payloads are encrypted at rest (AES-256-GCM under a data
// key wrapped by the service's KeyManager; the associated data binds the
// event's ID, topic and key). Feeds and relays get plaintext, through the
// server that holds the key; who may read a feed is the RPC's authorisation
// (pkg/authz), as for every RPC.
//
// # Relays and the audit outbox
//
// Relay is the delivery loop (batching, wake-up, backoff, delivery counted
// only on the destination's confirmation, refused items set aside so they
// cannot block the ones behind) over a Queue. Consumers of this log are one
// kind of Queue; the audit outbox (pkg/auditclient) is another, over its
// own table. The audit outbox shares the loop but not the table, on purpose:
// its payloads hold raw subject identifiers and are deleted the moment the
// audit service confirms them, where this log keeps events for the
// retention window; and every audited write would otherwise take the
// publish lock, serialising all of a service's writes for an ordering the
// audit service (which deduplicates by event ID) does not need.
package events
