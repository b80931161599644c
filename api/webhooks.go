package api

import (
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/atende/atende/channels"
)

// webhookMaxBytes caps platform webhook bodies; e-mail with attachments and
// Evolution with its files in base64 may be larger (a text is cut for the
// agents at ingestion, never refused for length).
const (
	webhookMaxBytes      = 1 << 20
	emailWebhookMaxBytes = 25 << 20
	// evolutionWebhookMaxBytes: an Evolution instance with WEBHOOK_BASE64
	// posts the file inside the message, a third larger in base64 (the
	// largest file kept is 25 MB).
	evolutionWebhookMaxBytes = 40 << 20
)

// webhookChannel finds the channel of /webhooks/:kind/:channel_id, answering 404 itself.
func (h *handlers) webhookChannel(c *gin.Context) (channels.Channel, bool) {
	return h.channelOf(c, channels.Kind(c.Param("kind")))
}

// channelOf finds the channel :channel_id of that kind; an unknown id, or one
// of another kind, is a 404. The channel names the account of the request.
func (h *handlers) channelOf(c *gin.Context, kind channels.Kind) (channels.Channel, bool) {
	id, err := uuid.Parse(c.Param("channel_id"))
	if err != nil {
		abortWith(c, http.StatusNotFound, "not_found", "unknown channel")
		return channels.Channel{}, false
	}
	ch, err := h.d.Channels.ForWebhook(c.Request.Context(), kind, id)
	if errors.Is(err, channels.ErrNotFound) {
		abortWith(c, http.StatusNotFound, "not_found", "unknown channel")
		return channels.Channel{}, false
	}
	if err != nil {
		fail(c, err)
		return channels.Channel{}, false
	}
	c.Set("account_id", ch.AccountID.String())
	return ch, true
}

// webhookVerify answers Meta's GET handshake for WhatsApp Cloud and Instagram.
func (h *handlers) webhookVerify(c *gin.Context) {
	ch, ok := h.webhookChannel(c)
	if !ok {
		return
	}
	challenge, ok := channels.MetaHandshake(c.Request.URL.Query(), ch.Secret("verify_token"))
	if !ok {
		abortWith(c, http.StatusForbidden, "forbidden", "verify token does not match")
		return
	}
	c.String(http.StatusOK, challenge)
}

// webhookReceive verifies, parses and stores a platform webhook, and answers
// fast: 200 once stored (a retry of something stored is 200 with nothing new;
// items that could not be used are listed in skipped, logged and counted, and
// never refuse the others), 401 bad or missing signature, 400 when the body is
// not the platform's envelope at all, 413 too large, 404 unknown channel.
func (h *handlers) webhookReceive(c *gin.Context) {
	ch, ok := h.webhookChannel(c)
	if !ok {
		return
	}
	limit := int64(webhookMaxBytes)
	switch ch.Kind {
	case channels.KindEmail:
		limit = emailWebhookMaxBytes
	case channels.KindEvolution:
		limit = evolutionWebhookMaxBytes
	}
	if c.Request.ContentLength > limit {
		abortWith(c, http.StatusRequestEntityTooLarge, "too_large", "webhook body is larger than the limit")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err != nil {
		fail(c, err)
		return
	}
	batch, err := h.d.Channels.Open(c.Request.Context(), ch, channels.Delivery{
		Header: c.Request.Header, Query: c.Request.URL.Query(), Body: body, Now: h.d.Now()})
	switch {
	case errors.Is(err, channels.ErrBadSignature):
		if h.refuseBadSignature(c) {
			return
		}
		h.d.Log.WarnContext(c.Request.Context(), "webhook refused", "request_id", requestID(c), "channel_id", ch.ID, "error", err)
		abortWith(c, http.StatusUnauthorized, "bad_signature", err.Error())
		return
	case errors.Is(err, channels.ErrMalformed):
		abortWith(c, http.StatusBadRequest, "malformed", err.Error())
		return
	case err != nil:
		fail(c, err)
		return
	}
	res, err := h.d.Ingestor.Ingest(c.Request.Context(), ch, batch)
	if errors.Is(err, channels.ErrMalformed) {
		abortWith(c, http.StatusBadRequest, "malformed", err.Error())
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	h.reportSkipped(c, ch, res.Skipped)
	c.JSON(http.StatusOK, res)
}
