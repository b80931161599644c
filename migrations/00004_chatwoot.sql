-- +goose Up
-- Chatwoot inboxes are channels too: Atende answers as their bot.
ALTER TABLE channels DROP CONSTRAINT channels_kind_check;
ALTER TABLE channels ADD CONSTRAINT channels_kind_check
    CHECK (kind IN ('whatsapp', 'evolution', 'instagram', 'telegram', 'webchat', 'email', 'chatwoot'));

-- +goose Down
ALTER TABLE channels DROP CONSTRAINT channels_kind_check;
ALTER TABLE channels ADD CONSTRAINT channels_kind_check
    CHECK (kind IN ('whatsapp', 'evolution', 'instagram', 'telegram', 'webchat', 'email'));
