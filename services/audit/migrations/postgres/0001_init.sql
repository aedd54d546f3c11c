-- +goose Up
-- entries: one row per leaf. leaf_data is the exact byte string hashed into the
-- tree; the other columns are indexes for filtering and are never trusted for
-- verification.
CREATE TABLE entries (
    leaf_index         BIGINT  PRIMARY KEY,
    event_id           TEXT    NOT NULL UNIQUE,
    leaf_data          BYTEA   NOT NULL,
    -- HMAC-SHA256 (first subject-HMAC key) of the recording workload and the submitted event: a re-send
    -- must match it to count as a duplicate.
    input_digest       BYTEA   NOT NULL,
    subject_hash       TEXT    NOT NULL,
    actor_subject_hash TEXT    NOT NULL,
    actor_workload     TEXT    NOT NULL,
    action             TEXT    NOT NULL,
    occur_time_us      BIGINT  NOT NULL
);
CREATE INDEX entries_subject ON entries (subject_hash, leaf_index) WHERE subject_hash <> '';
CREATE INDEX entries_actor_subject ON entries (actor_subject_hash, leaf_index) WHERE actor_subject_hash <> '';
CREATE INDEX entries_action ON entries (action, leaf_index);
CREATE INDEX entries_occur_time ON entries (occur_time_us);

-- tree_nodes: every perfect subtree hash (level 0 = leaf hashes), enough to
-- serve any inclusion or consistency proof.
CREATE TABLE tree_nodes (
    level SMALLINT NOT NULL,
    idx   BIGINT  NOT NULL,
    hash  BYTEA   NOT NULL,
    PRIMARY KEY (level, idx)
);

-- tree_head: the committed size; appends compare-and-set it, so two writers
-- can never interleave leaves.
CREATE TABLE tree_head (
    id   SMALLINT PRIMARY KEY CHECK (id = 1),
    size BIGINT  NOT NULL
);
INSERT INTO tree_head (id, size) VALUES (1, 0);

CREATE TABLE checkpoints (
    tree_size   BIGINT  PRIMARY KEY,
    root_hash   BYTEA   NOT NULL,
    signed_note BYTEA   NOT NULL,
    sign_time_us BIGINT  NOT NULL
);

-- hmac_keys: the subject-HMAC data keys, wrapped by the KeyManager.
CREATE TABLE hmac_keys (
    version    INTEGER PRIMARY KEY,
    wrapped    BYTEA   NOT NULL,
    created_us BIGINT  NOT NULL
);

-- +goose Down
DROP TABLE hmac_keys;
DROP TABLE checkpoints;
DROP TABLE tree_head;
DROP TABLE tree_nodes;
DROP TABLE entries;
