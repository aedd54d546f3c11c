-- +goose Up
-- Every message reads the signals over its scopes that are recent or still
-- in force (storage.RecentSignals: create_time after the longest window OR
-- expire_time after now). signals_by_key (scope_key, kind, action,
-- create_time) cannot bound either side of that OR, so the read visited
-- every signal a scope ever had: a busy address (a carrier's NAT) grows it
-- without end. With these two, each side is a range scan of the scope (the
-- planners' multi-index OR).
CREATE INDEX signals_by_key_time ON signals (scope_key, create_time);
CREATE INDEX signals_by_key_expiry ON signals (scope_key, expire_time);

-- +goose Down
DROP INDEX signals_by_key_expiry;
DROP INDEX signals_by_key_time;
