package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atende/atende/channels"
	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/memory"
)

type sendMessageRequest struct {
	ChannelID string             `json:"channel_id" binding:"required"`
	Text      string             `json:"text"`
	Media     []memory.Media     `json:"media"`
	Template  *channels.Template `json:"template"`
	Author    string             `json:"author"`
}

// sendMessage records a reply on the timeline and queues its delivery; the
// answer is 202 because delivery (and its failure) happens in the background
// and shows on the timeline as status events.
func (h *handlers) sendMessage(c *gin.Context) {
	contactID, ok := contactID(c)
	if !ok {
		return
	}
	var req sendMessageRequest
	if !bindJSON(c, &req) {
		return
	}
	channelID, err := uuid.Parse(req.ChannelID)
	if err != nil {
		abortWith(c, http.StatusNotFound, "not_found", "channel not found")
		return
	}
	if strings.TrimSpace(req.Text) == "" && len(req.Media) == 0 && req.Template == nil {
		badRequest(c, "a message needs text, media or a template")
		return
	}
	for _, m := range req.Media {
		if !strings.HasPrefix(m.URL, "https://") && !strings.HasPrefix(m.URL, "http://") {
			badRequest(c, "media are sent by URL (http or https)")
			return
		}
	}
	author := memory.Author(req.Author)
	if author == "" {
		author = memory.AuthorHuman
	}
	if author != memory.AuthorHuman && author != memory.AuthorSystem {
		badRequest(c, `author must be "human" (default) or "system"`)
		return
	}
	acct := accountID(c)
	var ev memory.Event
	err = database.InTx(c.Request.Context(), h.d.Pool, func(tx pgx.Tx) error {
		if _, err := h.d.Memory.ContactTx(c.Request.Context(), tx, acct, contactID); err != nil {
			return err
		}
		var err error
		ev, err = h.d.Outbox.Queue(c.Request.Context(), tx, acct, channels.Outgoing{ContactID: contactID, ChannelID: channelID,
			Text: req.Text, Media: req.Media, Template: req.Template, Author: author})
		return err
	})
	if errors.Is(err, channels.ErrNotFound) {
		abortWith(c, http.StatusNotFound, "not_found", "channel not found")
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, ev)
}
