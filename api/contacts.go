package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/atende/atende/memory"
	"github.com/atende/atende/webhooks"
)

type identityJSON struct {
	Kind  string `json:"kind" binding:"required"`
	Value string `json:"value" binding:"required"`
}

type createContactRequest struct {
	Name       string         `json:"name"`
	Identities []identityJSON `json:"identities"`
	Fields     map[string]any `json:"fields"`
	Channel    string         `json:"channel"`
	Origin     string         `json:"origin"`
}

func (h *handlers) createContact(c *gin.Context) {
	var req createContactRequest
	if !bindJSON(c, &req) {
		return
	}
	if strings.TrimSpace(req.Name) == "" && len(req.Identities) == 0 {
		badRequest(c, "a contact needs a name or at least one identity")
		return
	}
	n := memory.NewContact{Name: req.Name, Fields: req.Fields, Channel: req.Channel, Origin: req.Origin}
	for _, id := range req.Identities {
		n.Identities = append(n.Identities, memory.Identity{Kind: memory.IdentityKind(strings.ToLower(id.Kind)), Value: id.Value})
	}
	res, err := h.d.Memory.CreateContact(c.Request.Context(), accountID(c), n)
	if err != nil {
		fail(c, err)
		return
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
		c.Header("Location", "/api/v1/contacts/"+res.Contact.ID.String())
	}
	c.JSON(status, res.Contact)
}

func (h *handlers) listContacts(c *gin.Context) {
	ctx, acct := c.Request.Context(), accountID(c)
	limit, ok := intParam(c, "limit", 20, 1, 100)
	if !ok {
		return
	}
	switch {
	case c.Query("identity") != "":
		id, err := memory.ParseIdentity(c.Query("identity"))
		if err != nil {
			fail(c, err)
			return
		}
		contact, err := h.d.Memory.FindByIdentity(ctx, acct, id)
		if errors.Is(err, memory.ErrNotFound) {
			c.JSON(http.StatusOK, gin.H{"contacts": []memory.Contact{}})
			return
		}
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"contacts": []memory.Contact{contact}})
	case c.Query("q") != "":
		found, err := h.d.Memory.SearchByName(ctx, acct, c.Query("q"), limit)
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"contacts": found})
	default:
		recent, err := h.d.Memory.RecentContacts(ctx, acct, limit)
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"contacts": recent})
	}
}

func (h *handlers) getContact(c *gin.Context) {
	id, ok := contactID(c)
	if !ok {
		return
	}
	contact, err := h.d.Memory.Contact(c.Request.Context(), accountID(c), id)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, contact)
}

type updateFieldsRequest struct {
	Fields map[string]any `json:"fields" binding:"required"`
}

func (h *handlers) updateFields(c *gin.Context) {
	id, ok := contactID(c)
	if !ok {
		return
	}
	var req updateFieldsRequest
	if !bindJSON(c, &req) {
		return
	}
	changes, err := h.d.Memory.UpdateFields(c.Request.Context(), accountID(c), id, req.Fields, memory.AuthorAPI, nil)
	if err != nil {
		fail(c, err)
		return
	}
	contact, err := h.d.Memory.Contact(c.Request.Context(), accountID(c), id)
	if err != nil {
		fail(c, err)
		return
	}
	if changes == nil {
		changes = []memory.FieldChange{}
	}
	c.JSON(http.StatusOK, gin.H{"contact": contact, "changes": changes})
}

func (h *handlers) timeline(c *gin.Context) {
	id, ok := contactID(c)
	if !ok {
		return
	}
	cursor, err := memory.ParseCursor(c.Query("cursor"))
	if err != nil {
		fail(c, err)
		return
	}
	limit, ok := intParam(c, "limit", 50, 1, 500)
	if !ok {
		return
	}
	page, err := h.d.Memory.Timeline(c.Request.Context(), accountID(c), id, cursor, limit)
	if err != nil {
		fail(c, err)
		return
	}
	events, err := h.eventViews(c.Request.Context(), accountID(c), page.Events)
	if err != nil {
		fail(c, err)
		return
	}
	out := gin.H{"events": events, "next_cursor": nil}
	if page.Next != nil {
		out["next_cursor"] = page.Next.Encode()
	}
	c.JSON(http.StatusOK, out)
}

type importEvent struct {
	OccurredAt time.Time      `json:"occurred_at" binding:"required"`
	Channel    string         `json:"channel" binding:"required"`
	Kind       string         `json:"kind"`
	Direction  string         `json:"direction" binding:"required"`
	Author     string         `json:"author" binding:"required"`
	Text       string         `json:"text"`
	Media      []memory.Media `json:"media"`
	ExternalID string         `json:"external_id"`
}

type importRequest struct {
	Events []importEvent `json:"events" binding:"required,min=1,max=5000,dive"`
}

func (h *handlers) importEvents(c *gin.Context) {
	id, ok := contactID(c)
	if !ok {
		return
	}
	var req importRequest
	if !bindJSON(c, &req) {
		return
	}
	events := make([]memory.Event, len(req.Events))
	for i, e := range req.Events {
		kind := memory.EventKind(e.Kind)
		if kind == "" {
			kind = memory.EventMessage
		}
		if kind != memory.EventMessage && kind != memory.EventNote {
			badRequest(c, fmt.Sprintf("event %d: only messages and notes can be imported, not %q", i, kind))
			return
		}
		events[i] = memory.Event{Kind: kind, Direction: memory.Direction(e.Direction), Author: memory.Author(e.Author),
			Channel: e.Channel, Text: e.Text, Media: e.Media, ExternalID: e.ExternalID, OccurredAt: e.OccurredAt}
	}
	res, err := h.d.Memory.Import(c.Request.Context(), accountID(c), id, events)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

func (h *handlers) linkIdentity(c *gin.Context) {
	id, ok := contactID(c)
	if !ok {
		return
	}
	var req identityJSON
	if !bindJSON(c, &req) {
		return
	}
	res, err := h.d.Memory.LinkIdentifier(c.Request.Context(), accountID(c), id,
		memory.IdentityKind(strings.ToLower(req.Kind)), req.Value, memory.AuthorAPI)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

type mergeRequest struct {
	OtherID string `json:"other_id" binding:"required"`
	Reason  string `json:"reason"`
}

func (h *handlers) merge(c *gin.Context) {
	id, ok := contactID(c)
	if !ok {
		return
	}
	var req mergeRequest
	if !bindJSON(c, &req) {
		return
	}
	other, err := uuid.Parse(req.OtherID)
	if err != nil {
		abortWith(c, http.StatusNotFound, "not_found", "other contact not found")
		return
	}
	reason := req.Reason
	if reason == "" {
		reason = "merged by hand"
	}
	res, err := h.d.Memory.Merge(c.Request.Context(), accountID(c), id, other, memory.AuthorAPI, reason)
	if err != nil {
		fail(c, err)
		return
	}
	if h.d.Webhooks != nil {
		if err := h.d.Webhooks.EmitNow(c.Request.Context(), accountID(c), webhooks.ContactMerged, res); err != nil {
			requestLog(c).WarnContext(c.Request.Context(), "contact.merged not emitted", "error", err)
		}
	}
	c.JSON(http.StatusOK, res)
}

func (h *handlers) unmerge(c *gin.Context) {
	id, ok := contactID(c)
	if !ok {
		return
	}
	res, err := h.d.Memory.Unmerge(c.Request.Context(), accountID(c), id, memory.AuthorAPI)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

type noteRequest struct {
	Text string `json:"text" binding:"required"`
}

func (h *handlers) addNote(c *gin.Context) {
	id, ok := contactID(c)
	if !ok {
		return
	}
	var req noteRequest
	if !bindJSON(c, &req) {
		return
	}
	e, err := h.d.Memory.AddNote(c.Request.Context(), accountID(c), id, memory.AuthorAPI, req.Text)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, e)
}

// defaultViewBudget is the MemoryView budget when the caller gives none.
const defaultViewBudget = 1500

func (h *handlers) memoryView(c *gin.Context) {
	id, ok := contactID(c)
	if !ok {
		return
	}
	budget, ok := intParam(c, "budget", defaultViewBudget, memory.MinViewBudget, 32000)
	if !ok {
		return
	}
	view, err := h.d.Viewer.View(c.Request.Context(), accountID(c), id,
		memory.ViewRequest{Query: c.Query("q"), Budget: budget, Sector: c.Query("sector")})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, view)
}

// intParam reads an integer query parameter within [lo, hi], answering 400 itself when it is not one.
func intParam(c *gin.Context, name string, def, lo, hi int) (int, bool) {
	raw := c.Query(name)
	if raw == "" {
		return def, true
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		badRequest(c, name+" must be an integer from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi))
		return 0, false
	}
	return n, true
}
