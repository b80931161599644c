-- +goose Up
-- Voice notes transcribed (issue 13): a media file knows its kind, so the
-- turn can ask "is an audio of these messages still being transcribed?",
-- and where its transcription stands. '' is "not asked for" (no provider,
-- or not an audio); a failed one says why, and the inbox shows
-- "áudio sem transcrição" with the player.
ALTER TABLE media_files
    ADD COLUMN kind text NOT NULL DEFAULT '',
    ADD COLUMN words_status text NOT NULL DEFAULT ''
        CHECK (words_status IN ('', 'pending', 'done', 'failed')),
    ADD COLUMN words_error text NOT NULL DEFAULT '';
CREATE INDEX media_files_awaiting_words ON media_files (account_id, event_id) WHERE words_status = 'pending';

-- +goose Down
DROP INDEX media_files_awaiting_words;
ALTER TABLE media_files DROP COLUMN words_error, DROP COLUMN words_status, DROP COLUMN kind;
