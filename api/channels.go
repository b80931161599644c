package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/atende/atende/channels"
	"github.com/atende/atende/internal/outbound"
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

// checkChannelURLs refuses a channel whose base_url or SMTP server the
// outbound policy would never let Atende reach (a loopback, private or
// metadata address).
func checkChannelURLs(ctx context.Context, policy outbound.Policy, settings map[string]string) error {
	if u := settings["base_url"]; u != "" {
		if err := policy.CheckURL(ctx, u); err != nil {
			return fmt.Errorf("settings.base_url: %w", err)
		}
	}
	if host := settings["smtp_host"]; host != "" {
		port := settings["smtp_port"]
		if port == "" {
			port = "587"
		}
		if err := policy.CheckHost(ctx, host, port); err != nil {
			return fmt.Errorf("settings.smtp_host: %w", err)
		}
	}
	return nil
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
	if err := checkChannelURLs(c.Request.Context(), h.d.Outbound, req.Settings); err != nil {
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
