-- +goose NO TRANSACTION
-- +goose Up
-- The audit trail (issue 14): who did what — an attendant or an API key —
-- through the API and the inbox: admin actions, field edits, merges and
-- unmerges, prompt activations, channel and secret changes, erasures, logins.
-- It names people and records by id and holds no personal data (no field
-- values, no message text), so an erasure leaves it as it is.
CREATE TABLE IF NOT EXISTS audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_kind  text NOT NULL CHECK (actor_kind IN ('api_key', 'attendant', 'system')),
    actor_id    text NOT NULL DEFAULT '',
    actor_name  text NOT NULL DEFAULT '',
    action      text NOT NULL,
    subject     text NOT NULL DEFAULT '',
    outcome     text NOT NULL CHECK (outcome IN ('ok', 'refused', 'failed')),
    status      int NOT NULL DEFAULT 0,
    request_id  text NOT NULL DEFAULT '',
    detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS audit_log_account_at ON audit_log (account_id, at DESC, id DESC);

-- An integration's edits are its own on the timeline, not "the team's".
-- NOT VALID then VALIDATE, each on its own (no transaction around this
-- file, so each statement is safe to run again): the rows are checked
-- without blocking writes to the events table while a long history is read.
ALTER TABLE events DROP CONSTRAINT IF EXISTS events_author_check;
ALTER TABLE events ADD CONSTRAINT events_author_check CHECK (author IN ('contact', 'ai', 'human', 'system', 'api')) NOT VALID;
ALTER TABLE events VALIDATE CONSTRAINT events_author_check;

-- +goose Down
-- An integration's edits go back to being "the team's" (the old rule has no "api").
ALTER TABLE events DROP CONSTRAINT IF EXISTS events_author_check;
UPDATE events SET author = 'human' WHERE author = 'api';
ALTER TABLE events ADD CONSTRAINT events_author_check CHECK (author IN ('contact', 'ai', 'human', 'system'));
DROP TABLE IF EXISTS audit_log;
