-- +goose Up
-- Media files (issue 13): each media item of a message, downloaded from its
-- platform by a job after ingest and kept by content (sha256) in the blob
-- store. A file that could not be fetched says why: never a silent gap.
CREATE TABLE media_files (
    id         uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    event_id   bigint NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    position   int NOT NULL,
    status     text NOT NULL CHECK (status IN ('pending', 'stored', 'failed')),
    sha256     text NOT NULL DEFAULT '',
    mime       text NOT NULL DEFAULT '',
    size       bigint NOT NULL DEFAULT 0,
    file_name  text NOT NULL DEFAULT '',
    error      text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, event_id, position)
);
CREATE INDEX media_files_sha ON media_files (sha256) WHERE sha256 <> '';

-- +goose Down
DROP TABLE media_files;
