-- +goose Up
-- The shared memory: tenants, contacts and their identities, the one timeline,
-- and the embedded history. Every table carries account_id and every query filters on it.
CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- unaccent() is only STABLE (its dictionary could change); pinning the dictionary
-- makes it safe to use in generated columns and indexes.
-- +goose StatementBegin
CREATE FUNCTION atende_unaccent(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$;
-- +goose StatementEnd

CREATE TABLE accounts (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    slug        text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id            uuid PRIMARY KEY,
    account_id    uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name          text NOT NULL,
    prefix        text NOT NULL,
    key_hash      bytea NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX api_keys_account ON api_keys (account_id);

CREATE TABLE contacts (
    id                uuid PRIMARY KEY,
    account_id        uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    display_name      text NOT NULL DEFAULT '',
    fields            jsonb NOT NULL DEFAULT '{}',
    field_times       jsonb NOT NULL DEFAULT '{}',
    first_contact_at  timestamptz NOT NULL DEFAULT now(),
    first_channel     text NOT NULL DEFAULT '',
    first_origin      text NOT NULL DEFAULT '',
    merged_into       uuid REFERENCES contacts(id),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, id)
);
CREATE INDEX contacts_account_created ON contacts (account_id, created_at DESC);
CREATE INDEX contacts_name_trgm ON contacts USING gin (atende_unaccent(lower(display_name)) gin_trgm_ops);

CREATE TABLE contact_identities (
    id          uuid PRIMARY KEY,
    account_id  uuid NOT NULL,
    contact_id  uuid NOT NULL,
    kind        text NOT NULL,
    value       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, kind, value),
    FOREIGN KEY (account_id, contact_id) REFERENCES contacts (account_id, id) ON DELETE CASCADE
);
CREATE INDEX contact_identities_contact ON contact_identities (account_id, contact_id);

CREATE TABLE conversations (
    id               uuid PRIMARY KEY,
    account_id       uuid NOT NULL,
    contact_id       uuid NOT NULL,
    status           text NOT NULL DEFAULT 'bot' CHECK (status IN ('bot', 'pending_human', 'human', 'resolved')),
    sector           text NOT NULL DEFAULT '',
    assignee_id      uuid,
    last_channel     text NOT NULL DEFAULT '',
    started_at       timestamptz NOT NULL DEFAULT now(),
    last_message_at  timestamptz NOT NULL DEFAULT now(),
    resolved_at      timestamptz,
    UNIQUE (account_id, id),
    FOREIGN KEY (account_id, contact_id) REFERENCES contacts (account_id, id) ON DELETE CASCADE
);
CREATE INDEX conversations_contact ON conversations (account_id, contact_id, last_message_at DESC);

-- The timeline: append-only. (channel, external_id) dedupes platform retries.
CREATE TABLE events (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id       uuid NOT NULL,
    contact_id       uuid NOT NULL,
    conversation_id  uuid,
    kind             text NOT NULL CHECK (kind IN ('message', 'note', 'action', 'handoff', 'assignment',
                                                   'field_change', 'csat', 'merge', 'status')),
    direction        text NOT NULL CHECK (direction IN ('in', 'out', 'internal')),
    author           text NOT NULL CHECK (author IN ('contact', 'ai', 'human', 'system')),
    channel          text NOT NULL DEFAULT '',
    text             text NOT NULL DEFAULT '',
    media            jsonb NOT NULL DEFAULT '[]',
    payload          jsonb NOT NULL DEFAULT '{}',
    external_id      text,
    prompt_version   text NOT NULL DEFAULT '',
    occurred_at      timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    chunk_id         bigint,
    FOREIGN KEY (account_id, contact_id) REFERENCES contacts (account_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX events_external_id ON events (account_id, channel, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX events_timeline ON events (account_id, contact_id, occurred_at, id);
CREATE INDEX events_unchunked ON events (account_id, contact_id, id) WHERE chunk_id IS NULL AND kind IN ('message', 'note');

-- Merges remember exactly what moved so that an unmerge can put it back.
CREATE TABLE merges (
    id           uuid PRIMARY KEY,
    account_id   uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    survivor_id  uuid NOT NULL,
    merged_id    uuid NOT NULL,
    snapshot     jsonb NOT NULL,
    reason       text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    undone_at    timestamptz
);
CREATE INDEX merges_contacts ON merges (account_id, survivor_id, merged_id) WHERE undone_at IS NULL;

-- Windows of consecutive history, embedded. The vector column has no fixed
-- dimension so that each embedding model gets its own partial HNSW index
-- (created by the application for the model in use): vectors of different
-- models are never compared.
CREATE TABLE memory_chunks (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id       uuid NOT NULL,
    contact_id       uuid NOT NULL,
    first_event_id   bigint NOT NULL,
    last_event_id    bigint NOT NULL,
    event_count      int NOT NULL,
    first_at         timestamptz NOT NULL,
    last_at          timestamptz NOT NULL,
    text             text NOT NULL,
    embedding        vector,
    embedding_model  text NOT NULL,
    tsv              tsvector GENERATED ALWAYS AS (to_tsvector('portuguese', atende_unaccent(text))) STORED,
    created_at       timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (account_id, contact_id) REFERENCES contacts (account_id, id) ON DELETE CASCADE
);
CREATE INDEX memory_chunks_contact ON memory_chunks (account_id, contact_id, embedding_model);
CREATE INDEX memory_chunks_tsv ON memory_chunks USING gin (tsv);

CREATE TABLE knowledge (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id       uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    sector           text NOT NULL,
    title            text NOT NULL,
    body             text NOT NULL,
    source           text NOT NULL DEFAULT '',
    embedding        vector,
    embedding_model  text NOT NULL,
    tsv              tsvector GENERATED ALWAYS AS (to_tsvector('portuguese', atende_unaccent(title || ' ' || body))) STORED,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, sector, title)
);
CREATE INDEX knowledge_sector ON knowledge (account_id, sector, embedding_model);
CREATE INDEX knowledge_tsv ON knowledge USING gin (tsv);

-- +goose Down
DROP TABLE knowledge, memory_chunks, merges, events, conversations, contact_identities, contacts, api_keys, accounts;
DROP FUNCTION atende_unaccent(text);
