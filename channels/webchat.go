package channels

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/internal/sanitize"
	"github.com/atende/atende/memory"
)

// The webchat is Atende's own channel: a widget on the business's site.
// Starting a session gives the browser a visitor id and a random session
// token, stored here only as its SHA-256; every later call carries both.
// Messages go up by HTTP POST and replies come down by SSE.

// ErrBadVisitor is returned for a visitor id that is not one Atende hands out.
var ErrBadVisitor = errors.New("bad visitor id")

var visitorIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

// ValidVisitorID says id has the shape of a visitor id Atende hands out;
// anything else is refused before it costs a lookup or a rate-limit key.
func ValidVisitorID(id string) bool { return visitorIDPattern.MatchString(id) }

// sessionIdle is how long an unused session token stays valid.
const sessionIdle = 90 * 24 * time.Hour

// legacySessionToken is the token sessions had before they were random: an
// HMAC of the visitor id. One is accepted only to resume its session,
// exchanged at once for a random token, so a returning visitor keeps their
// history and the sessions endpoint never hands such a token out again.
func legacySessionToken(ch Channel, visitorID string) string {
	mac := hmac.New(sha256.New, []byte(ch.Secret("session_key")))
	mac.Write([]byte(ch.ID.String() + ":" + visitorID))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func tokenHash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

func newSessionToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func newVisitorID() string { return strings.ReplaceAll(uuid.NewString(), "-", "") }

// VerifySession checks a visitor's session token: it must be one this
// channel issued to this visitor and used within sessionIdle. Its last use
// is recorded at most once a minute (no write per message).
func (w *Webchat) VerifySession(ctx context.Context, ch Channel, visitorID, token string) error {
	if visitorID == "" || token == "" {
		return fmt.Errorf("%w: missing webchat session", ErrBadSignature)
	}
	ok, err := sessionValid(ctx, w.pool, ch, visitorID, token)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: webchat session token does not match", ErrBadSignature)
	}
	return nil
}

// sessionValid is VerifySession on any connection or transaction.
func sessionValid(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, ch Channel, visitorID, token string) (bool, error) {
	var n int
	err := q.QueryRow(ctx, `WITH s AS (
			SELECT token_hash, last_seen_at FROM webchat_sessions
			WHERE token_hash = $1 AND account_id = $2 AND channel_id = $3 AND visitor_id = $4 AND last_seen_at > now() - $5::interval),
		touched AS (UPDATE webchat_sessions w SET last_seen_at = now() FROM s
			WHERE w.token_hash = s.token_hash AND s.last_seen_at < now() - interval '1 minute')
		SELECT count(*) FROM s`, tokenHash(token), ch.AccountID, ch.ID, visitorID, sessionIdle.String()).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("check webchat session: %w", err)
	}
	return n == 1, nil
}

// PreChat is what the optional form before the chat collects.
type PreChat struct {
	VisitorID string `json:"visitor_id"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
}

// Session is a visitor's chat session.
type Session struct {
	VisitorID string    `json:"visitor_id"`
	Token     string    `json:"token"`
	ContactID uuid.UUID `json:"-"`
	// Resumed says the token the browser held was good: the same visitor goes on.
	Resumed bool `json:"resumed"`
}

// Webchat runs the widget's side of the channel.
type Webchat struct {
	pool     *pgxpool.Pool
	memory   *memory.Store
	ingestor *Ingestor
}

// NewWebchat wires the webchat to the memory and ingestion.
func NewWebchat(pool *pgxpool.Pool, mem *memory.Store, ingestor *Ingestor) *Webchat {
	return &Webchat{pool: pool, memory: mem, ingestor: ingestor}
}

// StartSession opens a visitor's session, or resumes it when token is the
// one the browser was given. Naming a visitor id is not enough to become
// that visitor: an id someone already uses, without its token, gets a new
// visitor. What the pre-chat form says is the visitor's claim: an e-mail or
// phone nobody holds becomes an identifier of the visitor's own contact (so
// their later e-mail joins this history); one that belongs to another
// contact is kept as an unverified claim (memory.FieldClaimedEmail, ...) for
// an attendant to merge — it never merges or renames anyone by itself.
func (w *Webchat) StartSession(ctx context.Context, ch Channel, p PreChat, token string) (Session, error) {
	sanitize.Strings(&p) // a NUL in the form must not fail the session
	if p.VisitorID != "" && !visitorIDPattern.MatchString(p.VisitorID) {
		return Session{}, fmt.Errorf("%w: 8 to 64 letters, digits, - or _", ErrBadVisitor)
	}
	var claims []memory.Identity
	for _, f := range []struct {
		kind  memory.IdentityKind
		value string
	}{{memory.KindEmail, p.Email}, {memory.KindPhone, p.Phone}} {
		if strings.TrimSpace(f.value) == "" {
			continue
		}
		id, err := memory.NormalizeIdentity(f.kind, f.value)
		if err != nil {
			return Session{}, err
		}
		claims = append(claims, id)
	}
	var s Session
	err := database.InTx(ctx, w.pool, func(tx pgx.Tx) error {
		var err error
		if s, err = w.session(ctx, tx, ch, p.VisitorID, token); err != nil {
			return err
		}
		res, err := w.memory.ResolveTx(ctx, tx, ch.AccountID, memory.KindWebchat, s.VisitorID, memory.Profile{Name: p.Name, Channel: string(KindWebchat), Origin: "webchat"})
		if err != nil {
			return err
		}
		s.ContactID = res.Contact.ID
		for _, id := range claims {
			if _, err := w.memory.ClaimIdentifierTx(ctx, tx, ch.AccountID, s.ContactID, id.Kind, id.Value, memory.AuthorContact); err != nil {
				return err
			}
		}
		fields := map[string]any{}
		if name := strings.TrimSpace(p.Name); name != "" {
			fields[memory.FieldName] = name // the visitor's own contact: no one else is renamed
		}
		if len(fields) > 0 {
			if _, err := w.memory.UpdateFieldsTx(ctx, tx, ch.AccountID, s.ContactID, fields, memory.AuthorContact, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Session{}, err
	}
	return s, nil
}

// session resumes the visitor's session when token is theirs, and otherwise
// issues a new token — for the visitor id asked for only when nobody uses it.
func (w *Webchat) session(ctx context.Context, tx pgx.Tx, ch Channel, visitorID, token string) (Session, error) {
	if visitorID != "" {
		// Two sessions asked at once for one new id must not both get it:
		// the second waits and finds it taken.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "webchat:"+ch.ID.String()+":"+visitorID); err != nil {
			return Session{}, fmt.Errorf("lock webchat visitor: %w", err)
		}
	}
	if visitorID != "" && token != "" {
		ok, err := sessionValid(ctx, tx, ch, visitorID, token)
		if err != nil {
			return Session{}, err
		}
		if ok {
			return Session{VisitorID: visitorID, Token: token, Resumed: true}, nil
		}
		legacy := ch.Secret("session_key") != "" &&
			subtle.ConstantTimeCompare([]byte(legacySessionToken(ch, visitorID)), []byte(token)) == 1
		if legacy {
			// Exchanged once: a visitor who has a random token already (the
			// browser exchanged it, or someone who collected the old token
			// did) cannot be minted another one from the old token.
			var exchanged bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM webchat_sessions WHERE account_id = $1 AND channel_id = $2 AND visitor_id = $3)`,
				ch.AccountID, ch.ID, visitorID).Scan(&exchanged); err != nil {
				return Session{}, fmt.Errorf("check webchat session: %w", err)
			}
			legacy = !exchanged
		}
		if legacy {
			return w.issue(ctx, tx, ch, visitorID, true)
		}
	}
	if visitorID != "" {
		_, used, err := w.memory.OwnerTx(ctx, tx, ch.AccountID, memory.Identity{Kind: memory.KindWebchat, Value: visitorID})
		if err != nil {
			return Session{}, err
		}
		if used {
			visitorID = ""
		}
	}
	if visitorID == "" {
		visitorID = newVisitorID()
	}
	return w.issue(ctx, tx, ch, visitorID, false)
}

// issue stores a new random token for the visitor (its hash only).
func (w *Webchat) issue(ctx context.Context, tx pgx.Tx, ch Channel, visitorID string, resumed bool) (Session, error) {
	token := newSessionToken()
	if _, err := tx.Exec(ctx, `INSERT INTO webchat_sessions (token_hash, account_id, channel_id, visitor_id) VALUES ($1, $2, $3, $4)`,
		tokenHash(token), ch.AccountID, ch.ID, visitorID); err != nil {
		return Session{}, fmt.Errorf("store webchat session: %w", err)
	}
	return Session{VisitorID: visitorID, Token: token, Resumed: resumed}, nil
}

// Post stores a visitor's message; clientID (made by the widget) dedupes the
// retries of a flaky connection.
func (w *Webchat) Post(ctx context.Context, ch Channel, visitorID, clientID, text string) (IngestResult, error) {
	if strings.TrimSpace(sanitize.Text(text)) == "" {
		return IngestResult{}, fmt.Errorf("%w: empty message", ErrMalformed)
	}
	if clientID == "" {
		clientID = uuid.NewString()
	}
	if len(clientID) > 64 {
		return IngestResult{}, fmt.Errorf("%w: client id longer than 64", ErrMalformed)
	}
	return w.ingestor.Ingest(ctx, ch, Batch{Messages: []Inbound{{
		ExternalID: clientID, Type: "text", Text: text, At: time.Now().UTC(),
		From: Sender{Identities: []memory.Identity{{Kind: memory.KindWebchat, Value: visitorID}}},
	}}})
}

// WebchatReply is a message to the visitor, as the widget shows it.
type WebchatReply struct {
	ID     int64     `json:"id"`
	Author string    `json:"author"`
	Text   string    `json:"text"`
	At     time.Time `json:"at"`
}

// Replies returns what was sent to the visitor after the event id after.
func (w *Webchat) Replies(ctx context.Context, ch Channel, visitorID string, after int64) ([]WebchatReply, error) {
	c, err := w.memory.FindByIdentity(ctx, ch.AccountID, memory.Identity{Kind: memory.KindWebchat, Value: visitorID})
	if errors.Is(err, memory.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	events, err := w.memory.OutboundSince(ctx, ch.AccountID, c.ID, string(KindWebchat), visitorID, after)
	if err != nil {
		return nil, err
	}
	out := make([]WebchatReply, 0, len(events))
	for _, e := range events {
		out = append(out, WebchatReply{ID: e.ID, Author: string(e.Author), Text: e.Text, At: e.OccurredAt})
	}
	return out, nil
}

// WebchatTopic is the notify topic that wakes one visitor's SSE streams on
// a webchat channel.
func WebchatTopic(channelID uuid.UUID, visitorID string) string {
	return channelID.String() + "/" + visitorID
}

// InboxTopic is the notify topic that wakes an account's inbox pages.
func InboxTopic(accountID uuid.UUID) string { return "inbox/" + accountID.String() }

// webchat is the adapter of Atende's own widget. Its visitors post to the
// webchat endpoints (Webchat), not to a platform webhook, and read replies
// from the timeline: sending is waking the visitor's streams.
type webchat struct{}

// Kind is KindWebchat.
func (webchat) Kind() Kind { return KindWebchat }

// Capabilities: the session key (generated); one contact may have several
// browsers, so a reply is pinned to the visitor who last wrote.
func (webchat) Capabilities() Capabilities {
	return Capabilities{RequiredSecrets: []string{"session_key"}, PinsRecipient: true}
}

// Open refuses: no platform posts webchat webhooks.
func (webchat) Open(_ context.Context, ch Channel, _ Delivery, _ Replays) (Batch, error) {
	return Batch{}, noWebhooks(ch.Kind)
}

// Send wakes the visitor's streams on every replica; the reply itself is
// already on the timeline, where the stream reads it.
func (webchat) Send(ctx context.Context, via *Platforms, ch Channel, m PlatformMessage) (string, error) {
	if via.webchat == nil {
		return "", &SendError{Reason: "webchat is not served here"}
	}
	if err := via.webchat.Notify(ctx, WebchatTopic(ch.ID, m.To)); err != nil {
		return "", &SendError{Retryable: true, Reason: err.Error()}
	}
	return "webchat:" + uuid.NewString(), nil
}

// Rules: Markdown in the widget, one form for missing data, a fast answer.
func (webchat) Rules() Rules {
	return Rules{Kind: KindWebchat, MaxLength: 4000, Format: FormatMarkdown, ResponseTime: 2 * time.Minute,
		Tone:       "Webchat: acolhedor e objetivo; o visitante está no site com intenção de comprar, conduza à conversão.",
		Collection: CollectForm, Templates: ptTemplates()}
}

// Address is one of the contact's visitor ids (Reply picks the pinned one).
func (webchat) Address(ids []memory.Identity) (string, bool) {
	return identityOf(ids, memory.KindWebchat)
}

// Reply goes to the visitor the reply was pinned to when queued.
func (webchat) Reply(m PlatformMessage, c ReplyContext) (PlatformMessage, string) {
	if c.Pinned == "" {
		return m, "no webchat visitor has written to answer"
	}
	m.To = c.Pinned
	return m, ""
}
