-- +goose Up
-- Erasure that holds against old copies (docs/adr/0007-erasure-epochs.md).

-- kek_floor: the oldest key-encryption key (KEK) version a wrapped key may
-- be stored under. The kek-epoch job raises it before it checks that every
-- wrapped key was rewrapped and retires the versions below, so a key wrapped
-- just before a rotation cannot be stored after that check (it would never
-- open again once its version is retired): that insert is refused instead.
CREATE TABLE kek_floor (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    floor INTEGER NOT NULL
);
INSERT INTO kek_floor (id, floor) VALUES (1, 0);

-- erased_kek_version: the newest KEK version any copy of an erased
-- subject's data keys (in the WAL, a replica, a backup) can be wrapped
-- under. The copies stop opening once the KEK's versions up to it are
-- retired; the kek-epoch job starts an epoch for that.
ALTER TABLE subjects ADD COLUMN erased_kek_version INTEGER;
CREATE INDEX subjects_erased_kek_version ON subjects (erased_kek_version) WHERE erased_kek_version IS NOT NULL;

-- retired_tokens: deterministic tokens an erasure took out of use (no live
-- subject held them), never to be issued again: the same value then gets the
-- next generation's token, so copies of the old one stay unlinkable to it.
-- mark is SHA-256 of the token, not the token: it confirms a value only to
-- whoever holds the tenant key.
CREATE TABLE retired_tokens (
    tenant     TEXT    NOT NULL,
    mark       BYTEA   NOT NULL,
    retired_us BIGINT  NOT NULL,
    PRIMARY KEY (tenant, mark)
);

-- +goose Down
DROP TABLE retired_tokens;
DROP INDEX subjects_erased_kek_version;
ALTER TABLE subjects DROP COLUMN erased_kek_version;
DROP TABLE kek_floor;
