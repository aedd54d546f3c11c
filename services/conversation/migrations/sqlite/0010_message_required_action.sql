-- +goose Up
-- What an assistant's reply asks the customer to do (sotto.conversation.v1.
-- RequiredAction: 1 sign in, 2 step up; 0 nothing), stored with the reply
-- so that a client reading the conversation again (a reload, an event
-- stream resumed with Last-Event-ID) shows the same control. A number,
-- never text: nothing personal.
ALTER TABLE messages ADD COLUMN required_action INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE messages DROP COLUMN required_action;
