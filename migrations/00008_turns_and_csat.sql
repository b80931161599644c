-- +goose Up
-- Turns are serialised per conversation by a lease on the conversation row
-- (taken and released in short statements, never held across an LLM call),
-- and a turn records the last customer message it answered so a message that
-- arrives while a turn runs is never taken as answered by it.
ALTER TABLE conversations ADD COLUMN turn_token uuid;
ALTER TABLE conversations ADD COLUMN turn_lease_until timestamptz;
ALTER TABLE conversations ADD COLUMN answered_through bigint NOT NULL DEFAULT 0;
-- What earlier turns answered: every customer message before the last reply.
UPDATE conversations c SET answered_through = coalesce((SELECT max(e.id) FROM events e
    WHERE e.account_id = c.account_id AND e.conversation_id = c.id AND e.kind = 'message' AND e.direction = 'in'
    AND e.id < (SELECT max(o.id) FROM events o WHERE o.account_id = c.account_id AND o.conversation_id = c.id
        AND o.kind = 'message' AND o.direction = 'out')), 0);

-- One open conversation per contact, by construction: two webhooks for a new
-- contact at once cannot open two. Older duplicates left by that race close.
UPDATE conversations c SET status = 'resolved', resolved_at = coalesce(c.resolved_at, now())
WHERE c.status <> 'resolved' AND EXISTS (
    SELECT 1 FROM conversations o WHERE o.account_id = c.account_id AND o.contact_id = c.contact_id
    AND o.status <> 'resolved' AND (o.last_message_at, o.id) > (c.last_message_at, c.id));
CREATE UNIQUE INDEX conversations_one_open ON conversations (account_id, contact_id) WHERE status <> 'resolved';

-- CSAT belongs to the handoff package: a resolved conversation's request for
-- a score and the score it got.
CREATE TABLE csat_requests (
    conversation_id uuid PRIMARY KEY,
    account_id      uuid NOT NULL,
    contact_id      uuid NOT NULL,
    requested_at    timestamptz NOT NULL DEFAULT now(),
    score           int CHECK (score BETWEEN 1 AND 5),
    scored_at       timestamptz,
    FOREIGN KEY (account_id, conversation_id) REFERENCES conversations (account_id, id) ON DELETE CASCADE
);
CREATE INDEX csat_requests_waiting ON csat_requests (account_id, contact_id, requested_at DESC) WHERE score IS NULL;
INSERT INTO csat_requests (conversation_id, account_id, contact_id, requested_at, score)
SELECT id, account_id, contact_id, csat_requested_at, csat_score FROM conversations WHERE csat_requested_at IS NOT NULL;
ALTER TABLE conversations DROP COLUMN csat_score;
ALTER TABLE conversations DROP COLUMN csat_requested_at;

-- +goose Down
ALTER TABLE conversations ADD COLUMN csat_requested_at timestamptz;
ALTER TABLE conversations ADD COLUMN csat_score int;
UPDATE conversations c SET csat_requested_at = r.requested_at, csat_score = r.score FROM csat_requests r WHERE r.conversation_id = c.id;
DROP TABLE csat_requests;
DROP INDEX conversations_one_open;
ALTER TABLE conversations DROP COLUMN answered_through;
ALTER TABLE conversations DROP COLUMN turn_lease_until;
ALTER TABLE conversations DROP COLUMN turn_token;
