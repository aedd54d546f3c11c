-- +goose Up
CREATE TABLE items (
    id    INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    a     TEXT,
    b     TEXT
);

-- +goose Down
DROP TABLE items;
