package api

import (
	"bytes"
	"encoding/base64"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/atende/atende/handoff"
	"github.com/atende/atende/media"
	"github.com/atende/atende/memory"
)

// listHandoffs answers the queue: open handoffs by SLA due time, filtered
// by status (open, queued, assigned, resolved, returned, all), sector,
// team, owner (an attendant's e-mail or id), contact and tag.
func (h *handlers) listHandoffs(c *gin.Context) {
	ctx, acct := c.Request.Context(), accountID(c)
	f := handoff.Filter{Status: c.Query("status"), Sector: c.Query("sector"), Team: c.Query("team"), Tag: c.Query("tag")}
	if owner := c.Query("owner"); owner != "" {
		a, ok := h.attendantRef(c, owner)
		if !ok {
			return
		}
		f.OwnerID = &a.ID
	}
	if contact := c.Query("contact_id"); contact != "" {
		id, err := uuid.Parse(contact)
		if err != nil {
			badRequest(c, "contact_id must be a UUID")
			return
		}
		f.ContactID = &id
	}
	limit, ok := intParam(c, "limit", 100, 1, 500)
	if !ok {
		return
	}
	f.Limit = limit
	list, err := h.d.Handoffs.List(ctx, acct, f)
	if err != nil {
		fail(c, err)
		return
	}
	if list == nil {
		list = []handoff.Handoff{}
	}
	c.JSON(http.StatusOK, gin.H{"handoffs": list})
}

func (h *handlers) getHandoff(c *gin.Context) {
	id, ok := uuidParam(c, "id")
	if !ok {
		return
	}
	got, err := h.d.Handoffs.Get(c.Request.Context(), accountID(c), id)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, got)
}

// attendantRef resolves an attendant named by e-mail or id.
func (h *handlers) attendantRef(c *gin.Context, ref string) (handoff.Attendant, bool) {
	var a handoff.Attendant
	var err error
	if id, perr := uuid.Parse(ref); perr == nil {
		a, err = h.d.Handoffs.Attendant(c.Request.Context(), accountID(c), id)
	} else {
		a, err = h.d.Handoffs.AttendantByEmail(c.Request.Context(), accountID(c), ref)
	}
	if err != nil {
		abortWith(c, http.StatusUnprocessableEntity, "invalid", "no such attendant: "+ref)
		return a, false
	}
	return a, true
}

type handoffAction struct {
	Attendant string `json:"attendant" binding:"required"` // e-mail or id of who acts
	Text      string `json:"text"`
	// File is a reply's attachment (a boleto's PDF from an n8n flow): its
	// bytes in base64 and its name; kept and sent by a signed link.
	File *struct {
		Name string `json:"name"`
		Data string `json:"data"`
	} `json:"file"`
	Note      string  `json:"note"`
	ChannelID *string `json:"channel_id"`
	To        *string `json:"to"` // reassign: an attendant, or null for the team queue
}

// handoffAct runs one of the human actions on a handoff.
func (h *handlers) handoffAct(c *gin.Context) {
	id, ok := uuidParam(c, "id")
	if !ok {
		return
	}
	var req handoffAction
	if !bindJSON(c, &req) {
		return
	}
	by, ok := h.attendantRef(c, req.Attendant)
	if !ok {
		return
	}
	ctx, acct, svc := c.Request.Context(), accountID(c), h.d.Handoffs
	var out any
	var err error
	switch c.Param("action") {
	case "reply":
		var ch *uuid.UUID
		if req.ChannelID != nil {
			parsed, perr := uuid.Parse(*req.ChannelID)
			if perr != nil {
				badRequest(c, "channel_id must be a UUID")
				return
			}
			ch = &parsed
		}
		var files []memory.Media
		var kept *media.Blob
		if req.File != nil {
			raw, derr := base64.StdEncoding.DecodeString(req.File.Data)
			if derr != nil || len(raw) == 0 {
				badRequest(c, "file.data must be the file's bytes in base64")
				return
			}
			m, b, kerr := h.keepReplyFile(ctx, bytes.NewReader(raw), req.File.Name, "")
			if kerr != nil {
				fail(c, kerr)
				return
			}
			files, kept = append(files, *m), b
		}
		sent, rerr := svc.Reply(ctx, acct, id, by, req.Text, ch, files...)
		if rerr == nil && kept != nil {
			h.recordSent(c, acct, sent, files[0], *kept)
		}
		out, err = sent, rerr
	case "notes":
		out, err = svc.Note(ctx, acct, id, by, req.Text)
	case "claim":
		out, err = svc.Claim(ctx, acct, id, by)
	case "reassign":
		var to *uuid.UUID
		if req.To != nil {
			a, ok := h.attendantRef(c, *req.To)
			if !ok {
				return
			}
			to = &a.ID
		}
		out, err = svc.Reassign(ctx, acct, id, by, to)
	case "handback":
		out, err = svc.HandBack(ctx, acct, id, by, req.Note)
	case "resolve":
		out, err = svc.Resolve(ctx, acct, id, by)
	default:
		abortWith(c, http.StatusNotFound, "not_found", "no such action (reply, notes, claim, reassign, handback, resolve)")
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// takeOver opens a card owned by a person for a conversation the bot holds.
func (h *handlers) takeOver(c *gin.Context) {
	id, ok := uuidParam(c, "id")
	if !ok {
		return
	}
	var req struct {
		Attendant string `json:"attendant" binding:"required"`
	}
	if !bindJSON(c, &req) {
		return
	}
	by, ok := h.attendantRef(c, req.Attendant)
	if !ok {
		return
	}
	got, err := h.d.Handoffs.TakeOver(c.Request.Context(), accountID(c), id, by)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, got)
}

// putAttendant creates or updates an attendant of the inbox.
func (h *handlers) putAttendant(c *gin.Context) {
	var req handoff.NewAttendant
	if !bindJSON(c, &req) {
		return
	}
	a, err := h.d.Handoffs.PutAttendant(c.Request.Context(), accountID(c), req)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, a)
}

func (h *handlers) listAttendants(c *gin.Context) {
	list, err := h.d.Handoffs.Attendants(c.Request.Context(), accountID(c))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"attendants": list})
}

// putTeams replaces the account's teams (members, hours, escalation).
func (h *handlers) putTeams(c *gin.Context) {
	var req struct {
		Teams []handoff.Team `json:"teams"`
	}
	if !bindJSON(c, &req) {
		return
	}
	if err := h.d.Handoffs.PutTeams(c.Request.Context(), accountID(c), req.Teams); err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"teams": len(req.Teams)})
}

func uuidParam(c *gin.Context, name string) (uuid.UUID, bool) {
	id, err := uuid.Parse(c.Param(name))
	if err != nil {
		badRequest(c, name+" must be a UUID")
		return id, false
	}
	return id, true
}
