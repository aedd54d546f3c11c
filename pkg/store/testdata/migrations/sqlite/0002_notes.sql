-- +goose Up
CREATE TABLE notes (
    id      INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES items (id)
);

-- +goose Down
DROP TABLE notes;
