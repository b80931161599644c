-- +goose Up
-- Voice notes transcribed (issue 13): a media file knows its kind, so the
-- turn can ask "is an audio of these messages still being transcribed?",
-- and where its transcription stands. '' is "not asked for" (no provider,
-- or not an audio); a failed one says why, and the inbox shows
-- "áudio sem transcrição" with the player.
ALTER TABLE media_files
    ADD COLUMN kind text NOT NULL DEFAULT '',
    ADD COLUMN transcript_status text NOT NULL DEFAULT ''
        CHECK (transcript_status IN ('', 'pending', 'done', 'failed')),
    ADD COLUMN transcript_error text NOT NULL DEFAULT '';
CREATE INDEX media_files_transcribing ON media_files (account_id, event_id) WHERE transcript_status = 'pending';

-- +goose Down
DROP INDEX media_files_transcribing;
ALTER TABLE media_files DROP COLUMN transcript_error, DROP COLUMN transcript_status, DROP COLUMN kind;
