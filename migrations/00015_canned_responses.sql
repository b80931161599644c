-- +goose Up
-- Canned responses ("respostas prontas", issue 14): an account's ready
-- replies, picked in the inbox by typing "/" and their shortcut. The text is
-- the canonical Markdown subset replies are written in, with {{variables}}
-- filled from the contact when it is used. channel_kind '' offers it on
-- every channel, a kind only there. Shortcuts are unique per account
-- whatever their case ("Boleto" is "boleto").
CREATE TABLE canned_responses (
    id            uuid PRIMARY KEY,
    account_id    uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    shortcut      text NOT NULL,
    title         text NOT NULL DEFAULT '',
    body          text NOT NULL,
    channel_kind  text NOT NULL DEFAULT '',
    created_by    text NOT NULL DEFAULT '',
    updated_by    text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, id)
);
CREATE UNIQUE INDEX canned_responses_shortcut ON canned_responses (account_id, lower(shortcut));

-- +goose Down
DROP TABLE canned_responses;
