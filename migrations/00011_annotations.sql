-- +goose Up
-- Annotations: a reaction, an edit or a deletion is about an earlier message,
-- not a message of its own (issue 12). They stay on the append-only timeline
-- as events of their own kind, pointing at the message, and never wake the bot.
ALTER TABLE events DROP CONSTRAINT events_kind_check;
ALTER TABLE events ADD CONSTRAINT events_kind_check
    CHECK (kind IN ('message', 'note', 'action', 'handoff', 'assignment', 'field_change', 'csat', 'merge', 'status', 'annotation'));

-- +goose Down
DELETE FROM events WHERE kind = 'annotation';
ALTER TABLE events DROP CONSTRAINT events_kind_check;
ALTER TABLE events ADD CONSTRAINT events_kind_check
    CHECK (kind IN ('message', 'note', 'action', 'handoff', 'assignment', 'field_change', 'csat', 'merge', 'status'));
