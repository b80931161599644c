-- +goose Up
-- Delivery statuses point at the outbound message they are about; the send
-- job reads them to never send a message (or a part of it) twice.
CREATE INDEX events_status_of ON events (account_id, ((payload->>'message_event_id')))
    WHERE kind = 'status';
-- The messaging window is counted from the customer's last message on a channel.
CREATE INDEX events_last_inbound ON events (account_id, contact_id, channel, occurred_at DESC)
    WHERE kind = 'message' AND direction = 'in';

-- +goose Down
DROP INDEX events_last_inbound, events_status_of;
