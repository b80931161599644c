-- +goose Up
-- A turn reads a conversation's unanswered messages: after the last outbound
-- one. Without this index that is a scan of the contact's whole history.
CREATE INDEX events_conversation_messages ON events (account_id, conversation_id, direction, id)
    WHERE kind = 'message' AND conversation_id IS NOT NULL;

-- +goose Down
DROP INDEX events_conversation_messages;
