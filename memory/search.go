package memory

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// ErrEmptySearch is returned for a search with nothing to look for: no
// text, or only stop words and punctuation ("de", "a", "?"), which full-text
// search ignores and which would match everything or nothing. Callers
// answer 400 with the error's message.
var ErrEmptySearch = errors.New("nothing to search for")

// HitType says what a search hit is: a contact or a moment of the history.
type HitType string

// The types of search hits.
const (
	HitContact HitType = "contact"
	HitEvent   HitType = "event"
)

// What a hit matched. A contact matched by one of its identifiers (phone,
// e-mail, CPF, a channel id), its name or a field's value; an event by its
// text, a voice note's transcript, an image's description or an
// attachment's caption, name or title — or by several of them together
// (MatchWords).
const (
	MatchIdentifier  = "identifier"
	MatchName        = "name"
	MatchField       = "field"
	MatchText        = "text"
	MatchTranscript  = "transcript"
	MatchDescription = "description"
	MatchAttachment  = "attachment"
	MatchWords       = "words"
)

// SnippetPart is a piece of a hit's snippet; Mark is true for the words the
// query matched. Parts are plain text: whoever renders them escapes them.
type SnippetPart struct {
	Text string `json:"text"`
	Mark bool   `json:"mark,omitempty"`
}

// SearchHit is one result of Search: a contact, or an event (a message or
// note) of a contact's timeline, with what it matched and a snippet.
type SearchHit struct {
	Type HitType
	// Contact is the contact found or whose timeline the event is on; its
	// identities are loaded for contact hits only.
	Contact Contact
	// Match is what matched (MatchIdentifier ... MatchWords).
	Match string
	// Identity is the identifier a contact was found by (MatchIdentifier).
	Identity *Identity
	// Field is the field whose value matched (MatchField).
	Field string
	// Event is the message or note found (HitEvent).
	Event   *Event
	Snippet []SnippetPart
	// Rank orders hits: identifiers, then names, then field values, then
	// events by full-text rank; ties newest first.
	Rank float64

	key searchKey
}

// searchKey is a hit's place in the order, which the cursor carries.
type searchKey struct {
	Tier int32
	Rank float32
	At   time.Time
	ID   string
}

// SearchCursor is where a page of search results ended.
type SearchCursor struct{ key searchKey }

// Encode renders the cursor for a URL.
func (c SearchCursor) Encode() string {
	k := c.key
	raw := fmt.Sprintf("%d:%08x:%d:%s", k.Tier, math.Float32bits(k.Rank), k.At.UnixMicro(), k.ID)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// ParseSearchCursor reads a cursor from Encode; the empty string is the
// first page.
func ParseSearchCursor(s string) (*SearchCursor, error) {
	if s == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, ErrBadCursor
	}
	parts := strings.SplitN(string(raw), ":", 4)
	if len(parts) != 4 || parts[3] == "" {
		return nil, ErrBadCursor
	}
	tier, err1 := strconv.ParseInt(parts[0], 10, 32)
	bits, err2 := strconv.ParseUint(parts[1], 16, 32)
	micros, err3 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, ErrBadCursor
	}
	return &SearchCursor{key: searchKey{Tier: int32(tier), Rank: math.Float32frombits(uint32(bits)), At: time.UnixMicro(micros), ID: parts[3]}}, nil
}

// SearchPage is a page of hits, best first; Next is nil on the last page.
type SearchPage struct {
	Hits []SearchHit
	Next *SearchCursor
}

// maxSearchWords bounds the words a name or field value is matched by.
const maxSearchWords = 8

// tsQuery is the query text ($2) as a Portuguese, accent-folded tsquery:
// web-search syntax ("frase exata", ou, -palavra), every other word required.
const tsQuery = `websearch_to_tsquery('portuguese', atende_unaccent($2))`

// Sentinels mark the matches in ts_headline's output. They are private-use
// characters, taken out of the text before it is highlighted, so a message
// can neither fake a mark nor, once the parts are escaped, inject markup.
const (
	markStart = "\uE000"
	markStop  = "\uE001"
)

// headlineOptions make a snippet of up to two fragments of 8 to 20 words
// around the matches; a text of up to shortText characters is shown whole
// (wholeOptions: fragments would cut it short).
const (
	headlineOptions = `StartSel=` + markStart + `, StopSel=` + markStop +
		`, MaxWords=20, MinWords=8, ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "`
	wholeOptions = `StartSel=` + markStart + `, StopSel=` + markStop + `, HighlightAll=true`
)

const shortText = 280

// searchSQL ranks every hit of the account and reads the page's: the
// contact hits (the best match of each contact), then the events, in one
// order the cursor can resume.
//
//	$1 account, $2 query text, $3/$4 identifiers (kinds, values) matched
//	exactly, $5 digits a phone ends with, $6 folded query, $7 word patterns,
//	$8 whether the tsquery is usable, $9-$12 the cursor, $13 limit,
//	$14 ts_headline options, $15 the length of a text shown whole, $16
//	the options that show it whole.
//
// A name or field value must match each of the n word patterns: one
// condition per word, so that the trigram indexes narrow the scan (they
// cannot serve "~ ALL (array)").
func searchSQL(n int) string {
	return wordConditions.ReplaceAllStringFunc(searchTemplate, func(m string) string {
		if n == 0 {
			return "false"
		}
		expr := wordConditions.FindStringSubmatch(m)[1]
		conds := make([]string, n)
		for i := range conds {
			conds[i] = fmt.Sprintf("%s ~ ($7::text[])[%d]", expr, i+1)
		}
		return "(" + strings.Join(conds, " AND ") + ")"
	})
}

var wordConditions = regexp.MustCompile(`\{\{words ([^}]+)\}\}`)

const searchTemplate = `
WITH contact_hits AS (
	SELECT DISTINCT ON (contact_id) contact_id, tier, rank, matched, detail, matched_text FROM (
		SELECT ci.contact_id, 3 AS tier, 1::real AS rank, 'identifier' AS matched, ci.kind AS detail, ci.value AS matched_text
		FROM contact_identities ci JOIN unnest($3::text[], $4::text[]) AS m(kind, value) ON ci.kind = m.kind AND ci.value = m.value
		WHERE ci.account_id = $1
		UNION ALL
		SELECT ci.contact_id, 3, 0.5::real, 'identifier', ci.kind, ci.value
		FROM contact_identities ci
		WHERE ci.account_id = $1 AND $5::text <> '' AND ci.kind IN ('phone', 'whatsapp_id') AND ci.value LIKE '%' || $5::text
		UNION ALL
		SELECT c.id, 2, similarity(atende_unaccent(lower(c.display_name)), $6::text), 'name', '', c.display_name
		FROM contacts c
		WHERE c.account_id = $1 AND {{words atende_unaccent(lower(c.display_name))}}
		UNION ALL
		SELECT c.id, 1, similarity(atende_unaccent(lower(f.value)), $6::text), 'field', f.key, f.value
		FROM contacts c CROSS JOIN LATERAL jsonb_each_text(c.fields) f
		WHERE c.account_id = $1 AND {{words atende_unaccent(lower(c.fields::text))}} AND {{words atende_unaccent(lower(f.value))}}
	) h ORDER BY contact_id, tier DESC, rank DESC, detail
), hits AS (
	SELECT 'contact' AS typ, h.contact_id, 0::bigint AS event_id, h.tier, h.rank, c.updated_at AS at, 'c' || h.contact_id::text AS key,
		h.matched, h.detail, h.matched_text
	FROM contact_hits h JOIN contacts c ON c.account_id = $1 AND c.id = h.contact_id
	WHERE c.merged_into IS NULL
	UNION ALL
	SELECT 'event', e.contact_id, e.id, 0, ts_rank(e.tsv, ` + tsQuery + `), e.occurred_at, 'e' || lpad(e.id::text, 19, '0'), '', '', ''
	FROM events e JOIN contacts c ON c.account_id = e.account_id AND c.id = e.contact_id
	WHERE $8::boolean AND e.account_id = $1 AND e.kind IN ('message', 'note') AND e.tsv @@ ` + tsQuery + ` AND c.merged_into IS NULL
), page AS (
	SELECT * FROM hits
	WHERE $9::int IS NULL OR (tier, rank, at, key) < ($9::int, $10::real, $11::timestamptz, $12::text)
	ORDER BY tier DESC, rank DESC, at DESC, key DESC
	LIMIT $13
)
SELECT p.typ, p.contact_id, p.tier, p.rank, p.at, p.key, p.matched, p.detail, p.matched_text,
	coalesce(e.id, 0), coalesce(e.kind, ''), coalesce(e.direction, ''), coalesce(e.author, ''), coalesce(e.channel, ''),
	coalesce(e.occurred_at, p.at), coalesce(w.matched_in, ''),
	coalesce(ts_headline('atende_portuguese', translate(w.source, '` + markStart + markStop + `', ''), ` + tsQuery + `,
		CASE WHEN length(w.source) <= $15 THEN $16 ELSE $14 END), '')
FROM page p
LEFT JOIN events e ON e.account_id = $1 AND e.id = p.event_id AND p.typ = 'event'
LEFT JOIN LATERAL (
	SELECT string_agg(nullif(m->>'transcript', ''), E'\n') AS transcript,
		string_agg(nullif(m->>'description', ''), E'\n') AS description,
		string_agg(nullif(concat_ws(E'\n', nullif(m->>'caption', ''), nullif(m->>'file_name', ''), nullif(m->>'title', '')), ''), E'\n') AS attachment
	FROM jsonb_array_elements(CASE WHEN jsonb_typeof(e.media) = 'array' THEN e.media ELSE '[]'::jsonb END) m
) parts ON e.id IS NOT NULL
LEFT JOIN LATERAL (
	SELECT CASE
			WHEN to_tsvector('portuguese', atende_unaccent(e.text)) @@ ` + tsQuery + ` THEN 'text'
			WHEN to_tsvector('portuguese', atende_unaccent(coalesce(parts.transcript, ''))) @@ ` + tsQuery + ` THEN 'transcript'
			WHEN to_tsvector('portuguese', atende_unaccent(coalesce(parts.description, ''))) @@ ` + tsQuery + ` THEN 'description'
			WHEN to_tsvector('portuguese', atende_unaccent(coalesce(parts.attachment, ''))) @@ ` + tsQuery + ` THEN 'attachment'
			ELSE 'words' END AS matched_in
) which ON e.id IS NOT NULL
LEFT JOIN LATERAL (
	SELECT which.matched_in, CASE which.matched_in
			WHEN 'text' THEN e.text WHEN 'transcript' THEN parts.transcript WHEN 'description' THEN parts.description
			WHEN 'attachment' THEN parts.attachment ELSE atende_event_words(e.text, e.media) END AS source
) w ON e.id IS NOT NULL
ORDER BY p.tier DESC, p.rank DESC, p.at DESC, p.key DESC`

// searchTerms is what a query is looked for as, besides full text.
type searchTerms struct {
	kinds, values []string // identifiers to match exactly
	phoneSuffix   string   // the digits of a number typed without its area code
	strong        bool     // the query reads as a phone, e-mail or CPF
	folded        string
	patterns      []string // word-prefix regexps for names and field values
}

// channelKinds are the identity kinds whose values are channel ids, looked
// up as typed.
var channelKinds = []IdentityKind{KindInstagram, KindTelegram, KindWebchat, KindWhatsAppUser, KindWhatsAppLID, KindWhatsAppID, KindChatwoot}

func termsOf(q string) searchTerms {
	var t searchTerms
	add := func(kind IdentityKind, value string) {
		t.kinds = append(t.kinds, string(kind))
		t.values = append(t.values, value)
	}
	if phone, err := NormalizePhone(q); err == nil {
		add(KindPhone, phone)
		t.strong = true
	}
	if digits, ok := phoneDigits(q); ok {
		if len(digits) == 8 || len(digits) == 9 {
			// "98765-4321": the number without its DDD
			t.phoneSuffix = digits
			t.strong = true
		}
		add(KindWhatsAppID, digits)
	}
	if cpf, err := NormalizeCPF(q); err == nil {
		add(KindCPF, cpf)
		t.strong = true
	}
	if strings.Contains(q, "@") {
		if email, err := NormalizeEmail(q); err == nil {
			add(KindEmail, email)
			t.strong = true
		}
	}
	if utf8.RuneCountInString(q) <= maxChannelIDLength {
		for _, k := range channelKinds {
			add(k, q)
		}
	}
	t.folded = Fold(q)
	words := Words(q)
	long := words[:0:0]
	for _, w := range words {
		if utf8.RuneCountInString(w) >= 3 {
			long = append(long, w)
		}
	}
	if len(long) > 0 {
		// "maria da silva" finds "Maria Silva": short words only narrow
		// a name when nothing longer was typed
		words = long
	}
	for i, w := range words {
		if i == maxSearchWords {
			break
		}
		// words are letters and digits only: nothing to escape
		t.patterns = append(t.patterns, `\m`+w)
	}
	return t
}

// phoneDigits returns the digits of q when q is written like a phone number
// (digits, spaces, + - ( ) .) and has 8 to 15 of them.
func phoneDigits(q string) (string, bool) {
	var b strings.Builder
	for _, r := range q {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case strings.ContainsRune(" +-().", r):
		default:
			return "", false
		}
	}
	d := b.String()
	return d, len(d) >= 8 && len(d) <= 15
}

// Search finds, in one account, the contacts a query names — by an
// identifier however it is typed ("(11) 98765-4321", "11987654321", "+55 11
// 98765 4321"; a CPF with or without its dots; an e-mail; a channel id), by
// their name or by a field's value — and the messages and notes that say
// it, in their text or in what their media say (transcripts, descriptions,
// captions). Accents and case never matter. Exact identifiers come first,
// then names, field values and the events by full-text rank; ties newest
// first. A query with nothing to look for is ErrEmptySearch.
func (s *Store) Search(ctx context.Context, accountID uuid.UUID, query string, after *SearchCursor, limit int) (SearchPage, error) {
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	q := strings.TrimSpace(CapQuery(query))
	if q == "" {
		return SearchPage{}, fmt.Errorf("%w: q is empty; type a name, a phone, an e-mail, a CPF or words of a message", ErrEmptySearch)
	}
	var tree string
	if err := s.pool.QueryRow(ctx, `SELECT querytree(`+strings.ReplaceAll(tsQuery, "$2", "$1")+`)`, q).Scan(&tree); err != nil {
		return SearchPage{}, fmt.Errorf("read search query: %w", err)
	}
	// '' is no lexeme at all (stop words, punctuation); 'T' only negations,
	// which would match nearly everything.
	fullText := tree != "" && tree != "T"
	terms := termsOf(q)
	if !fullText && !terms.strong {
		return SearchPage{}, fmt.Errorf("%w: %q has only stop words or punctuation (words like \"de\", \"a\", \"o\" are not searched); type a name, a phone, an e-mail, a CPF or other words of a message", ErrEmptySearch, q)
	}
	if !fullText {
		// a phone or CPF is found as an identifier; its digits are not words
		terms.patterns = nil
	}
	var (
		tier *int32
		rank *float32
		at   *time.Time
		key  *string
	)
	if after != nil {
		tier, rank, at, key = &after.key.Tier, &after.key.Rank, &after.key.At, &after.key.ID
	}
	rows, err := s.pool.Query(ctx, searchSQL(len(terms.patterns)), accountID, q, terms.kinds, terms.values, terms.phoneSuffix, terms.folded,
		terms.patterns, fullText, tier, rank, at, key, limit+1, headlineOptions, shortText, wholeOptions)
	if err != nil {
		return SearchPage{}, fmt.Errorf("search: %w", err)
	}
	defer rows.Close()
	var hits []SearchHit
	for rows.Next() {
		var h SearchHit
		var typ, matched, detail, text, headline, matchedIn string
		var e Event
		if err := rows.Scan(&typ, &h.Contact.ID, &h.key.Tier, &h.key.Rank, &h.key.At, &h.key.ID, &matched, &detail, &text,
			&e.ID, &e.Kind, &e.Direction, &e.Author, &e.Channel, &e.OccurredAt, &matchedIn, &headline); err != nil {
			return SearchPage{}, fmt.Errorf("search: %w", err)
		}
		h.Type = HitType(typ)
		h.Rank = float64(h.key.Tier) + float64(h.key.Rank)
		switch h.Type {
		case HitEvent:
			e.ContactID = h.Contact.ID
			h.Event, h.Match, h.Snippet = &e, matchedIn, headlineParts(headline)
		default:
			h.Match = matched
			switch matched {
			case MatchIdentifier:
				h.Identity = &Identity{Kind: IdentityKind(detail), Value: text}
				h.Snippet = []SnippetPart{{Text: text, Mark: true}}
			case MatchField:
				h.Field = detail
				h.Snippet = markPrefixes(text, Words(q))
			default:
				h.Snippet = markPrefixes(text, Words(q))
			}
		}
		hits = append(hits, h)
	}
	if err := rows.Err(); err != nil {
		return SearchPage{}, fmt.Errorf("search: %w", err)
	}
	page := SearchPage{Hits: hits}
	if len(hits) > limit {
		page.Hits = hits[:limit]
		page.Next = &SearchCursor{key: page.Hits[limit-1].key}
	}
	if err := s.fillHitContacts(ctx, accountID, page.Hits); err != nil {
		return SearchPage{}, err
	}
	return page, nil
}

// fillHitContacts loads the contacts of a page of hits: name and, for
// contact hits, identities.
func (s *Store) fillHitContacts(ctx context.Context, accountID uuid.UUID, hits []SearchHit) error {
	ids := make([]uuid.UUID, 0, len(hits))
	seen := map[uuid.UUID]bool{}
	for _, h := range hits {
		if !seen[h.Contact.ID] {
			seen[h.Contact.ID] = true
			ids = append(ids, h.Contact.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	contacts, err := s.contactsByID(ctx, accountID, ids)
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	byID := make(map[uuid.UUID]Contact, len(contacts))
	for _, c := range contacts {
		byID[c.ID] = c
	}
	for i := range hits {
		c := byID[hits[i].Contact.ID]
		if hits[i].Type == HitEvent {
			c.Identities = nil
		}
		hits[i].Contact = c
	}
	return nil
}

// headlineParts splits ts_headline's output at the sentinels into plain
// and marked parts, with runs of white space (the lines of a message) made
// one space.
func headlineParts(s string) []SnippetPart {
	var parts []SnippetPart
	var cur strings.Builder
	mark, space := false, false
	flush := func() {
		if cur.Len() > 0 {
			parts = append(parts, SnippetPart{Text: cur.String(), Mark: mark})
			cur.Reset()
		}
	}
	for _, r := range strings.TrimSpace(s) {
		switch {
		case string(r) == markStart:
			flush()
			mark = true
		case string(r) == markStop:
			flush()
			mark = false
		case unicode.IsSpace(r):
			if !space {
				cur.WriteRune(' ')
			}
			space = true
			continue
		default:
			cur.WriteRune(r)
		}
		space = false
	}
	flush()
	return parts
}

// markPrefixes marks, in text, the start of each word that begins with one
// of words (folded): "João da Silva" for "joao" is «João» da Silva.
func markPrefixes(text string, words []string) []SnippetPart {
	runes := []rune(text)
	marked := make([]bool, len(runes))
	folded := make([]string, len(runes))
	for i, r := range runes {
		folded[i] = Fold(string(r))
	}
	isWord := func(i int) bool { return unicode.IsLetter(runes[i]) || unicode.IsDigit(runes[i]) }
	for i := range runes {
		if !isWord(i) || (i > 0 && isWord(i-1)) {
			continue
		}
		for _, w := range words {
			j, rest := i, w
			for j < len(runes) && rest != "" && strings.HasPrefix(rest, folded[j]) && folded[j] != "" {
				rest = rest[len(folded[j]):]
				j++
			}
			if rest == "" {
				for k := i; k < j; k++ {
					marked[k] = true
				}
			}
		}
	}
	var parts []SnippetPart
	for i := 0; i < len(runes); {
		j := i
		for j < len(runes) && marked[j] == marked[i] {
			j++
		}
		parts = append(parts, SnippetPart{Text: string(runes[i:j]), Mark: marked[i]})
		i = j
	}
	return parts
}
