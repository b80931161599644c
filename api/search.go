package api

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/atende/atende/memory"
)

// searchResult is one hit of GET /api/v1/search: a contact, or a message or
// note of a contact's timeline.
type searchResult struct {
	Type    string        `json:"type"`
	Contact searchContact `json:"contact"`
	// Match is what matched: identifier, name or field for a contact; text,
	// transcript, description, attachment or words (several together) for
	// an event.
	Match    string           `json:"match"`
	Identity *memory.Identity `json:"identity,omitempty"`
	Field    string           `json:"field,omitempty"`

	EventID   int64      `json:"event_id,omitempty"`
	EventKind string     `json:"event_kind,omitempty"`
	At        *time.Time `json:"at,omitempty"`
	Channel   string     `json:"channel,omitempty"`
	Author    string     `json:"author,omitempty"`
	Direction string     `json:"direction,omitempty"`

	// Snippet is plain text; SnippetHTML is the same, escaped, with the
	// matched words in <mark>.
	Snippet     string `json:"snippet"`
	SnippetHTML string `json:"snippet_html"`
	// Link is the inbox page that shows it: the contact's open card (else
	// their latest), at the event; absent when the contact has no card.
	Link  string  `json:"link,omitempty"`
	Score float64 `json:"score"`

	parts []memory.SnippetPart
}

type searchContact struct {
	ID         uuid.UUID         `json:"id"`
	Name       string            `json:"name"`
	Identities []memory.Identity `json:"identities,omitempty"`
}

// searchFor runs a search and links each hit to its card.
func (h *handlers) searchFor(ctx context.Context, accountID uuid.UUID, q string, after *memory.SearchCursor, limit int) ([]searchResult, *memory.SearchCursor, error) {
	page, err := h.d.Memory.Search(ctx, accountID, q, after, limit)
	if err != nil {
		return nil, nil, err
	}
	contacts := make([]uuid.UUID, 0, len(page.Hits))
	for _, hit := range page.Hits {
		contacts = append(contacts, hit.Contact.ID)
	}
	cards := map[uuid.UUID]uuid.UUID{}
	if h.d.Handoffs != nil {
		if cards, err = h.d.Handoffs.CardsOf(ctx, accountID, contacts); err != nil {
			return nil, nil, err
		}
	}
	out := make([]searchResult, 0, len(page.Hits))
	for _, hit := range page.Hits {
		r := searchResult{Type: string(hit.Type), Match: hit.Match, Identity: hit.Identity, Field: hit.Field, Score: hit.Rank,
			Contact: searchContact{ID: hit.Contact.ID, Name: hit.Contact.DisplayName, Identities: hit.Contact.Identities},
			parts:   hit.Snippet}
		r.Snippet, r.SnippetHTML = snippetText(hit.Snippet)
		card, hasCard := cards[hit.Contact.ID]
		if hasCard {
			r.Link = "/inbox/handoffs/" + card.String()
		}
		if e := hit.Event; e != nil {
			at := e.OccurredAt
			r.EventID, r.EventKind, r.At, r.Channel, r.Author, r.Direction = e.ID, string(e.Kind), &at, e.Channel, string(e.Author), string(e.Direction)
			if hasCard {
				r.Link += "#ev-" + strconv.FormatInt(e.ID, 10)
			}
		}
		out = append(out, r)
	}
	return out, page.Next, nil
}

// snippetText renders a snippet as plain text and as HTML: every part
// escaped, the matched ones in <mark>.
func snippetText(parts []memory.SnippetPart) (string, string) {
	var plain, html strings.Builder
	for _, p := range parts {
		plain.WriteString(p.Text)
		if p.Mark {
			html.WriteString("<mark>" + template.HTMLEscapeString(p.Text) + "</mark>")
		} else {
			html.WriteString(template.HTMLEscapeString(p.Text))
		}
	}
	return plain.String(), html.String()
}

// search is GET /api/v1/search?q=&limit=&cursor=.
func (h *handlers) search(c *gin.Context) {
	limit, ok := intParam(c, "limit", 20, 1, 100)
	if !ok {
		return
	}
	cursor, err := memory.ParseSearchCursor(c.Query("cursor"))
	if err != nil {
		fail(c, err)
		return
	}
	results, next, err := h.searchFor(c.Request.Context(), accountID(c), c.Query("q"), cursor, limit)
	if errors.Is(err, memory.ErrEmptySearch) {
		badRequest(c, err.Error())
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	out := gin.H{"results": results, "next_cursor": nil}
	if next != nil {
		out["next_cursor"] = next.Encode()
	}
	c.JSON(http.StatusOK, out)
}

// searchRow is a result as the inbox's search page shows it.
type searchRow struct {
	searchResult
	// What says, in the inbox's words, what matched ("Telefone", "Nome",
	// "Transcrição do áudio").
	What       string
	Identities []string
	Time       time.Time
	Kind       memory.EventKind
	By         memory.Author
	// Parts are the snippet's, each escaped by the template.
	Parts []memory.SnippetPart
}

var identityLabels = map[memory.IdentityKind]string{
	memory.KindPhone: "Telefone", memory.KindEmail: "E-mail", memory.KindCPF: "CPF", memory.KindInstagram: "Instagram",
	memory.KindTelegram: "Telegram", memory.KindWebchat: "Site", memory.KindWhatsAppUser: "WhatsApp (usuário)",
	memory.KindWhatsAppLID: "WhatsApp (id)", memory.KindWhatsAppID: "WhatsApp", memory.KindChatwoot: "Chatwoot",
}

func identityLabel(k memory.IdentityKind) string {
	if l, ok := identityLabels[k]; ok {
		return l
	}
	return string(k)
}

func searchRowOf(r searchResult) searchRow {
	row := searchRow{searchResult: r, Parts: r.parts}
	for _, id := range r.Contact.Identities {
		row.Identities = append(row.Identities, identityLabel(id.Kind)+": "+id.Value)
	}
	switch r.Match {
	case memory.MatchIdentifier:
		row.What = identityLabel(r.Identity.Kind)
	case memory.MatchName:
		row.What = "Nome"
	case memory.MatchField:
		row.What = fieldLabel(r.Field)
	case memory.MatchTranscript:
		row.What = "Transcrição do áudio"
	case memory.MatchDescription:
		row.What = "Descrição da imagem"
	case memory.MatchAttachment:
		row.What = "Anexo"
	}
	if r.At != nil {
		row.Time, row.Kind, row.By = *r.At, memory.EventKind(r.EventKind), memory.Author(r.Author)
	}
	return row
}

// inboxSearch is the inbox's search page: contacts and moments of the
// history, each linked to the card that shows it.
func (h *handlers) inboxSearch(c *gin.Context) {
	sess := session(c)
	q := strings.TrimSpace(c.Query("q"))
	data := gin.H{"S": sess, "Q": q}
	if q == "" {
		h.render(c, http.StatusOK, "search.html", data)
		return
	}
	cursor, err := memory.ParseSearchCursor(c.Query("cursor"))
	if err != nil {
		cursor = nil
	}
	results, next, err := h.searchFor(c.Request.Context(), sess.AccountID, q, cursor, 30)
	if errors.Is(err, memory.ErrEmptySearch) {
		data["Error"] = "Digite um nome, telefone, e-mail, CPF ou palavras da conversa: palavras como “de”, “a” e “o” sozinhas não são buscadas."
		h.render(c, http.StatusBadRequest, "search.html", data)
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	rows := make([]searchRow, 0, len(results))
	for _, r := range results {
		rows = append(rows, searchRowOf(r))
	}
	data["Results"] = rows
	data["Searched"] = true
	if next != nil {
		data["More"] = "/inbox/search?q=" + urlEscape(q) + "&cursor=" + urlEscape(next.Encode())
	}
	h.render(c, http.StatusOK, "search.html", data)
}
