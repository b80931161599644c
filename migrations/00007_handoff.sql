-- +goose Up
-- Human side: attendants, teams with business hours, inbox sessions, the
-- handoff cards and their SLA, and outgoing webhook subscriptions.

CREATE TABLE attendants (
    id                uuid PRIMARY KEY,
    account_id        uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    email             text NOT NULL,
    name              text NOT NULL,
    password_hash     text NOT NULL,
    role              text NOT NULL CHECK (role IN ('agent', 'admin')),
    available         boolean NOT NULL DEFAULT true,
    capacity          int NOT NULL DEFAULT 5 CHECK (capacity > 0),
    last_assigned_at  timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, email),
    UNIQUE (account_id, id)
);
CREATE INDEX attendants_email ON attendants (email);

CREATE TABLE teams (
    account_id     uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name           text NOT NULL,
    definition     jsonb NOT NULL,
    supervisor_id  uuid,
    PRIMARY KEY (account_id, name)
);

CREATE TABLE team_members (
    account_id    uuid NOT NULL,
    team          text NOT NULL,
    attendant_id  uuid NOT NULL,
    PRIMARY KEY (account_id, team, attendant_id),
    FOREIGN KEY (account_id, team) REFERENCES teams (account_id, name) ON DELETE CASCADE,
    FOREIGN KEY (account_id, attendant_id) REFERENCES attendants (account_id, id) ON DELETE CASCADE
);

CREATE TABLE inbox_sessions (
    token_hash    bytea PRIMARY KEY,
    account_id    uuid NOT NULL,
    attendant_id  uuid NOT NULL,
    csrf          text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    FOREIGN KEY (account_id, attendant_id) REFERENCES attendants (account_id, id) ON DELETE CASCADE
);

CREATE TABLE handoffs (
    id                 uuid PRIMARY KEY,
    account_id         uuid NOT NULL,
    contact_id         uuid NOT NULL,
    conversation_id    uuid NOT NULL,
    status             text NOT NULL CHECK (status IN ('queued', 'assigned', 'resolved', 'returned')),
    source             text NOT NULL,
    reason             text NOT NULL,
    summary            text NOT NULL,
    fields             jsonb NOT NULL DEFAULT '{}',
    next_action        text NOT NULL,
    sector             text NOT NULL DEFAULT '',
    team               text NOT NULL DEFAULT '',
    channel            text NOT NULL DEFAULT '',
    priority           text NOT NULL CHECK (priority IN ('normal', 'high', 'urgent')),
    owner_id           uuid,
    sla_due            timestamptz NOT NULL,
    breached_at        timestamptz,
    first_response_at  timestamptz,
    waiting_since      timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    resolved_at        timestamptz,
    UNIQUE (account_id, id),
    FOREIGN KEY (account_id, contact_id) REFERENCES contacts (account_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX handoffs_one_open ON handoffs (account_id, conversation_id) WHERE status IN ('queued', 'assigned');
CREATE INDEX handoffs_queue ON handoffs (account_id, status, sla_due);
CREATE INDEX handoffs_owner ON handoffs (account_id, owner_id) WHERE status IN ('queued', 'assigned');
CREATE INDEX handoffs_contact ON handoffs (account_id, contact_id, created_at);

-- A resolved conversation may wait for the customer's satisfaction score.
ALTER TABLE conversations ADD COLUMN csat_requested_at timestamptz;
ALTER TABLE conversations ADD COLUMN csat_score int;

CREATE TABLE webhook_subscriptions (
    id          uuid PRIMARY KEY,
    account_id  uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    url         text NOT NULL,
    secret      text NOT NULL,
    events      text[] NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_subscriptions_account ON webhook_subscriptions (account_id);

CREATE TABLE webhook_deliveries (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id       uuid NOT NULL,
    subscription_id  uuid NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
    event            text NOT NULL,
    payload          jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         int NOT NULL DEFAULT 0,
    last_status      int,
    last_error       text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz
);
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (account_id, subscription_id, id DESC);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhook_subscriptions;
ALTER TABLE conversations DROP COLUMN csat_score;
ALTER TABLE conversations DROP COLUMN csat_requested_at;
DROP TABLE handoffs;
DROP TABLE inbox_sessions;
DROP TABLE team_members;
DROP TABLE teams;
DROP TABLE attendants;
