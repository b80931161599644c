package api

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/atende/atende/channels"
)

// channelJSON is a channel as the API shows it: secrets masked, never in clear.
type channelJSON struct {
	channels.Channel
	Secrets    map[string]string `json:"secrets"`
	WebhookURL string            `json:"webhook_path"`
}

func showChannel(ch channels.Channel) channelJSON {
	return channelJSON{Channel: ch, Secrets: ch.MaskedSecrets(), WebhookURL: "/webhooks/" + string(ch.Kind) + "/" + ch.ID.String()}
}

func failChannel(c *gin.Context, err error) {
	switch {
	case errors.Is(err, channels.ErrNotFound):
		abortWith(c, http.StatusNotFound, "not_found", "not found")
	case errors.Is(err, channels.ErrInvalidConfig):
		abortWith(c, http.StatusBadRequest, "bad_request", err.Error())
	case errors.Is(err, channels.ErrDuplicateName):
		abortWith(c, http.StatusConflict, "conflict", err.Error())
	default:
		fail(c, err)
	}
}

type createChannelRequest struct {
	Kind     string            `json:"kind" binding:"required"`
	Name     string            `json:"name" binding:"required"`
	Settings map[string]string `json:"settings"`
	Secrets  map[string]string `json:"secrets"`
}

func (h *handlers) createChannel(c *gin.Context) {
	var req createChannelRequest
	if !bindJSON(c, &req) {
		return
	}
	if err := channels.CheckReachable(c.Request.Context(), h.d.Outbound, req.Settings); err != nil {
		fail(c, err)
		return
	}
	ch, err := h.d.Channels.Create(c.Request.Context(), accountID(c), channels.NewChannel{
		Kind: channels.Kind(req.Kind), Name: req.Name, Settings: req.Settings, Secrets: req.Secrets})
	if err != nil {
		failChannel(c, err)
		return
	}
	c.JSON(http.StatusCreated, showChannel(ch))
}

func (h *handlers) listChannels(c *gin.Context) {
	list, err := h.d.Channels.List(c.Request.Context(), accountID(c))
	if err != nil {
		failChannel(c, err)
		return
	}
	out := make([]channelJSON, len(list))
	for i, ch := range list {
		out[i] = showChannel(ch)
	}
	c.JSON(http.StatusOK, gin.H{"channels": out})
}

func (h *handlers) getChannel(c *gin.Context) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		abortWith(c, http.StatusNotFound, "not_found", "not found")
		return
	}
	ch, err := h.d.Channels.Get(c.Request.Context(), accountID(c), id)
	if err != nil {
		failChannel(c, err)
		return
	}
	c.JSON(http.StatusOK, showChannel(ch))
}

type rotateSecretsRequest struct {
	Secrets map[string]string `json:"secrets" binding:"required"`
}

// rotateSecrets replaces secrets; a generated one given as "" is generated anew.
func (h *handlers) rotateSecrets(c *gin.Context) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		abortWith(c, http.StatusNotFound, "not_found", "not found")
		return
	}
	var req rotateSecretsRequest
	if !bindJSON(c, &req) {
		return
	}
	ch, err := h.d.Channels.SetSecrets(c.Request.Context(), accountID(c), id, req.Secrets)
	if err != nil {
		failChannel(c, err)
		return
	}
	c.JSON(http.StatusOK, showChannel(ch))
}
