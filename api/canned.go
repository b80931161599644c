package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/atende/atende/canned"
	"github.com/atende/atende/channels"
	"github.com/atende/atende/memory"
)

// Canned responses ("respostas prontas"): the account's ready replies, by API
// and in the inbox's reply box ("/" and a shortcut).

type cannedRequest struct {
	Shortcut string `json:"shortcut"`
	Title    string `json:"title"`
	Text     string `json:"text"`
	// Channel is the only kind the response is offered on ("" every channel).
	Channel string `json:"channel"`
	// Author is kept as created_by / updated_by (default "api").
	Author string `json:"author"`
}

func (r cannedRequest) input() canned.Input {
	by := strings.TrimSpace(r.Author)
	if by == "" {
		by = "api"
	}
	return canned.Input{Shortcut: r.Shortcut, Title: r.Title, Text: r.Text, Channel: channels.Kind(r.Channel), By: by}
}

// cannedID reads :id; a malformed id names no response, so it is a 404.
func cannedID(c *gin.Context) (uuid.UUID, bool) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		abortWith(c, http.StatusNotFound, "not_found", "not found")
		return uuid.Nil, false
	}
	return id, true
}

// cannedChannel reads a channel as the canned routes take it: one of the
// account's channel ids (its kind and its rules, settings included) or a
// kind (the kind's default rules). "" is none: every response is offered,
// and the text stays canonical Markdown.
func (h *handlers) cannedChannel(ctx context.Context, accountID uuid.UUID, v string) (channels.Kind, channels.Rules, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", channels.Rules{Format: channels.FormatMarkdown}, nil
	}
	if id, err := uuid.Parse(v); err == nil {
		ch, err := h.d.Channels.Get(ctx, accountID, id)
		if err != nil {
			return "", channels.Rules{}, err
		}
		rules, err := channels.RulesFor(ch)
		if err != nil {
			// Settings the outbox would refuse too; the kind's rules still say how it renders.
			rules = channels.DefaultRules(ch.Kind)
		}
		return ch.Kind, rules, nil
	}
	kind := channels.Kind(strings.ToLower(v))
	if !h.canned.ValidKind(kind) {
		return "", channels.Rules{}, fmt.Errorf("%w: channel %q is neither a channel id of the account nor a channel kind", canned.ErrInvalid, v)
	}
	return kind, channels.DefaultRules(kind), nil
}

// listCanned lists the account's responses; ?channel= (a channel id or
// kind) keeps those offered there.
func (h *handlers) listCanned(c *gin.Context) {
	ctx := c.Request.Context()
	kind, _, err := h.cannedChannel(ctx, accountID(c), c.Query("channel"))
	if err != nil {
		fail(c, err)
		return
	}
	list, err := h.canned.List(ctx, accountID(c), kind)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"canned_responses": list, "variables": canned.Variables()})
}

func (h *handlers) createCanned(c *gin.Context) {
	var req cannedRequest
	if !bindJSON(c, &req) {
		return
	}
	r, err := h.canned.Create(c.Request.Context(), accountID(c), req.input())
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, r)
}

func (h *handlers) getCanned(c *gin.Context) {
	id, ok := cannedID(c)
	if !ok {
		return
	}
	r, err := h.canned.Get(c.Request.Context(), accountID(c), id)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

// putCanned replaces a response (every field; an omitted channel is every channel).
func (h *handlers) putCanned(c *gin.Context) {
	id, ok := cannedID(c)
	if !ok {
		return
	}
	var req cannedRequest
	if !bindJSON(c, &req) {
		return
	}
	r, err := h.canned.Update(c.Request.Context(), accountID(c), id, req.input())
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

func (h *handlers) deleteCanned(c *gin.Context) {
	id, ok := cannedID(c)
	if !ok {
		return
	}
	if err := h.canned.Delete(c.Request.Context(), accountID(c), id); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// cannedContact is the contact a response is filled for: a merged-away
// contact's data lives in the one it was merged into.
func (h *handlers) cannedContact(ctx context.Context, accountID, id uuid.UUID) (memory.Contact, error) {
	contact, err := h.d.Memory.Contact(ctx, accountID, id)
	if err == nil && contact.MergedInto != nil {
		return h.d.Memory.Contact(ctx, accountID, *contact.MergedInto)
	}
	return contact, err
}

// renderCanned fills a response for a contact and renders it for a channel
// (a channel id or kind; default the response's own kind, else canonical
// Markdown): the channel's text, its parts, the canonical text and which
// variables are missing or unknown.
func (h *handlers) renderCanned(c *gin.Context) {
	id, ok := cannedID(c)
	if !ok {
		return
	}
	var req struct {
		ContactID string `json:"contact_id"`
		Channel   string `json:"channel"`
	}
	if !bindJSON(c, &req) {
		return
	}
	contactID, err := uuid.Parse(strings.TrimSpace(req.ContactID))
	if err != nil {
		badRequest(c, "contact_id: the id of the contact to fill the response for is required")
		return
	}
	ctx, acct := c.Request.Context(), accountID(c)
	r, err := h.canned.Get(ctx, acct, id)
	if err != nil {
		fail(c, err)
		return
	}
	asked := req.Channel
	if strings.TrimSpace(asked) == "" {
		asked = string(r.Channel)
	}
	kind, rules, err := h.cannedChannel(ctx, acct, asked)
	if err != nil {
		fail(c, err)
		return
	}
	if !r.OfferedOn(kind) {
		badRequest(c, fmt.Sprintf("/%s is only offered on %s channels, not %s", r.Shortcut, r.Channel, kind))
		return
	}
	contact, err := h.cannedContact(ctx, acct, contactID)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, canned.Render(rules, r.Text, contact))
}

// inboxCannedItem is a response as the reply box's picker offers it.
type inboxCannedItem struct {
	ID       uuid.UUID `json:"id"`
	Shortcut string    `json:"shortcut"`
	Title    string    `json:"title"`
	// Text is filled for the contact but still canonical Markdown: the reply
	// box takes canonical text, and the outbox renders it for the channel
	// when it sends it (rendering here too would render it twice).
	Text    string   `json:"text"`
	Missing []string `json:"missing"`
	Unknown []string `json:"unknown"`
}

// inboxCanned answers the reply box's picker: the responses offered on the
// reply's channel (?channel= a channel id or kind), each filled for the
// contact.
func (h *handlers) inboxCanned(c *gin.Context) {
	sess := session(c)
	ctx := c.Request.Context()
	contactID, err := uuid.Parse(c.Param("id"))
	if err != nil {
		abortWith(c, http.StatusNotFound, "not_found", "not found")
		return
	}
	kind, _, err := h.cannedChannel(ctx, sess.AccountID, c.Query("channel"))
	if err != nil {
		fail(c, err)
		return
	}
	contact, err := h.cannedContact(ctx, sess.AccountID, contactID)
	if err != nil {
		fail(c, err)
		return
	}
	list, err := h.canned.List(ctx, sess.AccountID, kind)
	if err != nil {
		fail(c, err)
		return
	}
	items := make([]inboxCannedItem, 0, len(list))
	for _, r := range list {
		f := canned.Fill(r.Text, contact)
		items = append(items, inboxCannedItem{ID: r.ID, Shortcut: r.Shortcut, Title: r.Title, Text: f.Text, Missing: f.Missing, Unknown: f.Unknown})
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"channel": kind, "responses": items})
}
