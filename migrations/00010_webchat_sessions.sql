-- +goose Up
-- Webchat sessions: a random token the visitor's browser holds, stored only
-- as its SHA-256. Before, the token was an HMAC of the visitor id, and the
-- sessions endpoint handed it to anyone who named the id (issue 10).
CREATE TABLE webchat_sessions (
    token_hash   bytea PRIMARY KEY,
    account_id   uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    channel_id   uuid NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    visitor_id   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webchat_sessions_visitor ON webchat_sessions (channel_id, visitor_id);

-- +goose Down
DROP TABLE webchat_sessions;
