-- +goose Up
-- 0002 left the raw request ids in dead tuples of consent_requests and in
-- its primary-key index, which plain VACUUM marks reusable without
-- overwriting. TRUNCATE gives the table, its TOAST table and its index new,
-- empty files and removes the old ones, whatever else the server is doing.
-- VACUUM FULL, which this was, copies every deleted tuple that a running
-- transaction might still see: one holding a snapshot from before 0002 (a
-- replica of the previous release), or one in any database of the server
-- that began writing before 0002 committed (VACUUM FULL's own snapshot
-- counts it as running), kept the raw ids in the new files.
-- Nothing is lost: 0002 emptied the table, and nothing writes to it before
-- the migrations are done (the previous release cannot: it names the old
-- column). It locks consent_requests while it runs, which is brief.
TRUNCATE consent_requests;

-- +goose Down
