-- +goose Up
-- A conversation handed to a person: why it was handed off (the proto's
-- HandOffReason number, 0 before), and the support agent who took it
-- (their staff account id, '' until then). Only that agent replies; the
-- assignment is a conditional update (agent_subject = ''), so a second
-- agent cannot take a conversation another holds.
ALTER TABLE conversations ADD COLUMN agent_subject TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN hand_off_reason BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE conversations DROP COLUMN hand_off_reason;
ALTER TABLE conversations DROP COLUMN agent_subject;
