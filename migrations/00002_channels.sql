-- +goose Up
-- Channel instances: a WhatsApp number, an Instagram account, a Telegram bot,
-- a webchat widget, an inbound e-mail address. Secrets (app secrets, tokens)
-- are needed in clear to verify and send, so they are stored as given and
-- never returned by the API.
CREATE TABLE channels (
    id          uuid PRIMARY KEY,
    account_id  uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('whatsapp', 'evolution', 'instagram', 'telegram', 'webchat', 'email')),
    name        text NOT NULL,
    settings    jsonb NOT NULL DEFAULT '{}',
    secrets     jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, name)
);
CREATE INDEX channels_account ON channels (account_id, kind);

-- One-time tokens of signed webhooks (Mailgun), remembered to refuse replays.
CREATE TABLE channel_replay_tokens (
    channel_id  uuid NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    token       text NOT NULL,
    seen_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, token)
);

-- +goose Down
DROP TABLE channel_replay_tokens, channels;
