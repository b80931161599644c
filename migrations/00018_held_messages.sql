-- +goose Up
-- Held messages (issue 14): every customer message asks whether a reply is
-- held for it (a closed WhatsApp window); the statuses that say "held" are
-- few, so they have an index of their own and the question costs nothing
-- on a long history.
CREATE INDEX events_held ON events (account_id, contact_id, channel) WHERE kind = 'status' AND payload->>'status' = 'held';

-- +goose Down
DROP INDEX events_held;
