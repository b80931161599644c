-- +goose Up
-- Tags (issue 14): short labels an account puts on contacts and on
-- conversations ("vip", "reclamação") to filter the queue and its reports.
-- The tags package owns these tables. A tag is one per account by its key
-- (trimmed, spaces collapsed, NFC, lower-cased) and keeps the display form it
-- was first written in. A link goes with its contact or conversation (erasure
-- included); every add and remove is a 'tag' event on the contact's timeline.
CREATE TABLE tags (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    key         text NOT NULL CHECK (key <> '' AND key = lower(key)),
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 40),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, key),
    UNIQUE (account_id, id)
);

CREATE TABLE contact_tags (
    account_id  uuid NOT NULL,
    contact_id  uuid NOT NULL,
    tag_id      bigint NOT NULL,
    added_by    text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, contact_id, tag_id),
    FOREIGN KEY (account_id, contact_id) REFERENCES contacts (account_id, id) ON DELETE CASCADE,
    FOREIGN KEY (account_id, tag_id) REFERENCES tags (account_id, id) ON DELETE CASCADE
);
CREATE INDEX contact_tags_tag ON contact_tags (account_id, tag_id);

CREATE TABLE conversation_tags (
    account_id       uuid NOT NULL,
    conversation_id  uuid NOT NULL,
    tag_id           bigint NOT NULL,
    added_by         text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, conversation_id, tag_id),
    FOREIGN KEY (account_id, conversation_id) REFERENCES conversations (account_id, id) ON DELETE CASCADE,
    FOREIGN KEY (account_id, tag_id) REFERENCES tags (account_id, id) ON DELETE CASCADE
);
CREATE INDEX conversation_tags_tag ON conversation_tags (account_id, tag_id);

ALTER TABLE events DROP CONSTRAINT events_kind_check;
ALTER TABLE events ADD CONSTRAINT events_kind_check
    CHECK (kind IN ('message', 'note', 'action', 'handoff', 'assignment', 'field_change', 'csat', 'merge', 'status', 'annotation', 'tag'));

-- +goose Down
DELETE FROM events WHERE kind = 'tag';
ALTER TABLE events DROP CONSTRAINT events_kind_check;
ALTER TABLE events ADD CONSTRAINT events_kind_check
    CHECK (kind IN ('message', 'note', 'action', 'handoff', 'assignment', 'field_change', 'csat', 'merge', 'status', 'annotation'));
DROP TABLE conversation_tags, contact_tags, tags;
