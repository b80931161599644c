-- +goose Up
-- Search (issue 14): a message or note is findable the moment it is stored,
-- by its text and by what its media say (a voice note's transcript, an
-- image's description, a caption, a document's name), accents and case
-- aside. memory_chunks has a tsvector too, but a window is cut only after
-- the chunking job ran, and it names no single message.

-- atende_event_words is everything an event says in words: its text, then
-- each media item's caption, file name, title, transcript and description,
-- one per line. IMMUTABLE (it reads only its arguments) so that a generated
-- column may use it; a media that is not an array says nothing.
-- +goose StatementBegin
CREATE FUNCTION atende_event_words(body text, media jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT concat_ws(E'\n', nullif(body, ''),
        (SELECT string_agg(concat_ws(E'\n', nullif(m->>'caption', ''), nullif(m->>'file_name', ''), nullif(m->>'title', ''),
                                     nullif(m->>'transcript', ''), nullif(m->>'description', '')), E'\n')
         FROM jsonb_array_elements(CASE WHEN jsonb_typeof(media) = 'array' THEN media ELSE '[]'::jsonb END) m))
$$;
-- +goose StatementEnd

-- Only messages and notes are searched: delivery statuses, field changes and
-- the like carry no tsvector (NULL) and stay out of the index.
ALTER TABLE events ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
    CASE WHEN kind IN ('message', 'note') THEN to_tsvector('portuguese', atende_unaccent(atende_event_words(text, media))) END
) STORED;
CREATE INDEX events_tsv ON events USING gin (tsv) WHERE kind IN ('message', 'note');

-- atende_portuguese is 'portuguese' with unaccent before the stemmer, word
-- by word: the same lexemes as to_tsvector('portuguese', atende_unaccent(x)),
-- but ts_headline with it marks the words of the original text, accents kept
-- ("promoção" is marked for the query "promocao").
CREATE TEXT SEARCH CONFIGURATION atende_portuguese (COPY = portuguese);
ALTER TEXT SEARCH CONFIGURATION atende_portuguese
    ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part WITH public.unaccent, portuguese_stem;

-- Contacts are found by the values of their fields too (an order number, a
-- city, what they need); the trigram index narrows the scan, each value is
-- then checked on its own.
CREATE INDEX contacts_fields_trgm ON contacts USING gin (atende_unaccent(lower(fields::text)) gin_trgm_ops);

-- +goose Down
DROP INDEX contacts_fields_trgm;
DROP TEXT SEARCH CONFIGURATION atende_portuguese;
DROP INDEX events_tsv;
ALTER TABLE events DROP COLUMN tsv;
DROP FUNCTION atende_event_words(text, jsonb);
