-- +goose Up
-- Prompt versions created through the API (or from the business file), per
-- account. The embedded files and the override directory are versions too,
-- but live outside the database; at most one stored version of a name is
-- active, and an active one wins over the files.
CREATE TABLE prompt_versions (
    account_id  uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name        text NOT NULL,
    version     text NOT NULL,
    text        text NOT NULL,
    note        text NOT NULL DEFAULT '',
    created_by  text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    active      boolean NOT NULL DEFAULT false,
    PRIMARY KEY (account_id, version)
);
CREATE UNIQUE INDEX prompt_versions_active ON prompt_versions (account_id, name) WHERE active;
CREATE INDEX prompt_versions_name ON prompt_versions (account_id, name, created_at);

-- The sectors of an account as the business file defines them (none: the
-- built-in sales, support and billing).
CREATE TABLE sectors (
    account_id  uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name        text NOT NULL,
    position    int NOT NULL,
    definition  jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, name)
);

-- HTTP tools declared in the business file (an n8n workflow that schedules,
-- issues a boleto, checks an order). The secret signs each call.
CREATE TABLE agent_tools (
    account_id  uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name        text NOT NULL,
    definition  jsonb NOT NULL,
    secret      text NOT NULL DEFAULT '',
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, name)
);

-- Routing examples beyond the built-in ones: human corrections (a person moved
-- a conversation to another sector) and reviewed additions. `atende train`
-- folds them into a router version.
CREATE TABLE routing_examples (
    id           bigserial PRIMARY KEY,
    account_id   uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    text         text NOT NULL,
    sector       text NOT NULL,
    wants_human  boolean NOT NULL DEFAULT false,
    source       text NOT NULL,
    event_id     bigint,
    created_by   text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX routing_examples_event ON routing_examples (account_id, event_id, sector) WHERE event_id IS NOT NULL;
CREATE INDEX routing_examples_account ON routing_examples (account_id, id);

-- Trained routers: the exact example set (training is deterministic, so the
-- set is the model) and its cross-validated report. The active one routes.
CREATE TABLE router_versions (
    account_id  uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    version     text NOT NULL,
    examples    jsonb NOT NULL,
    report      jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    active      boolean NOT NULL DEFAULT false,
    PRIMARY KEY (account_id, version)
);
CREATE UNIQUE INDEX router_versions_active ON router_versions (account_id) WHERE active;

-- A turn reads the conversation's last AI decision (sticky sector, a
-- clarifying question already asked, answers failed in a row).
CREATE INDEX events_conversation_decisions ON events (account_id, conversation_id, id)
    WHERE author = 'ai' AND kind IN ('action', 'handoff') AND conversation_id IS NOT NULL;

-- +goose Down
DROP INDEX events_conversation_decisions;
DROP TABLE router_versions;
DROP TABLE routing_examples;
DROP TABLE agent_tools;
DROP TABLE sectors;
DROP TABLE prompt_versions;
