package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
)

type reassignRequest struct {
	Sector string `json:"sector" binding:"required"`
	By     string `json:"by" binding:"required"`
}

// reassignConversation moves a conversation to another sector on a person's
// word; the correction becomes a routing example for `atende train`.
func (h *handlers) reassignConversation(c *gin.Context) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		badRequest(c, "conversation id must be a UUID")
		return
	}
	var req reassignRequest
	if !bindJSON(c, &req) {
		return
	}
	r, err := h.d.Agents.Reassign(c.Request.Context(), accountID(c), id, req.Sector, req.By)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

// getConversation answers a conversation's status, sector and channel.
func (h *handlers) getConversation(c *gin.Context) {
	id, ok := uuidParam(c, "id")
	if !ok {
		return
	}
	conv, err := h.d.Conversations.Get(c.Request.Context(), accountID(c), id)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, conv)
}
