package api

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
)

type subscribeRequest struct {
	URL    string   `json:"url" binding:"required"`
	Secret string   `json:"secret"`
	Events []string `json:"events"`
}

// subscribe adds a webhook subscription; the secret (generated when not
// given) is shown in this answer only.
func (h *handlers) subscribe(c *gin.Context) {
	var req subscribeRequest
	if !bindJSON(c, &req) {
		return
	}
	if err := h.d.Outbound.CheckURL(c.Request.Context(), req.URL); err != nil {
		fail(c, fmt.Errorf("url: %w", err))
		return
	}
	sub, err := h.d.Webhooks.Subscribe(c.Request.Context(), accountID(c), req.URL, req.Secret, req.Events)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, sub)
}

func (h *handlers) listSubscriptions(c *gin.Context) {
	list, err := h.d.Webhooks.List(c.Request.Context(), accountID(c))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"webhooks": list})
}

func (h *handlers) unsubscribe(c *gin.Context) {
	id, ok := uuidParam(c, "id")
	if !ok {
		return
	}
	if err := h.d.Webhooks.Delete(c.Request.Context(), accountID(c), id); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// deliveries is a subscription's delivery log, newest first.
func (h *handlers) deliveries(c *gin.Context) {
	id, ok := uuidParam(c, "id")
	if !ok {
		return
	}
	limit, ok := intParam(c, "limit", 50, 1, 500)
	if !ok {
		return
	}
	list, err := h.d.Webhooks.Deliveries(c.Request.Context(), accountID(c), id, limit)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"deliveries": list})
}
