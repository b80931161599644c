package api

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/atende/atende/channels"
)

//go:embed web
var webFiles embed.FS

var chatPage = template.Must(template.ParseFS(webFiles, "web/chat.html"))

// sseHeartbeat keeps proxies from closing an idle stream.
const sseHeartbeat = 25 * time.Second

// DemoWebchat finds the webchat channel the /chat demo page talks to.
type DemoWebchat func(ctx context.Context) (uuid.UUID, bool)

// webchatChannel finds the webchat channel of :channel_id and allows the
// widget's cross-origin calls (it runs on the business's site; auth is the
// session token, never a cookie).
func (h *handlers) webchatChannel(c *gin.Context) (channels.Channel, bool) {
	c.Header("Access-Control-Allow-Origin", "*")
	c.Header("Access-Control-Allow-Headers", "Content-Type, X-Webchat-Token")
	return h.channelOf(c, channels.KindWebchat)
}

func webchatPreflight(c *gin.Context) {
	c.Header("Access-Control-Allow-Origin", "*")
	c.Header("Access-Control-Allow-Headers", "Content-Type, X-Webchat-Token")
	c.Header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	c.Status(http.StatusNoContent)
}

func (h *handlers) webchatSession(c *gin.Context) {
	ch, ok := h.webchatChannel(c)
	if !ok {
		return
	}
	var p channels.PreChat
	if !bindJSON(c, &p) {
		return
	}
	// The token the browser holds resumes its session; without it a visitor
	// id someone uses gets a new visitor.
	s, err := h.d.Webchat.StartSession(c.Request.Context(), ch, p, c.GetHeader("X-Webchat-Token"))
	switch {
	case errors.Is(err, channels.ErrBadVisitor):
		badRequest(c, err.Error())
	case err != nil:
		fail(c, err)
	default:
		c.JSON(http.StatusOK, s)
	}
}

// webchatAuth checks the visitor's session token (header, or query for EventSource).
func (h *handlers) webchatAuth(c *gin.Context, ch channels.Channel, visitorID string) bool {
	token := c.GetHeader("X-Webchat-Token")
	if token == "" {
		token = c.Query("token")
	}
	err := h.d.Webchat.VerifySession(c.Request.Context(), ch, visitorID, token)
	if err != nil && !errors.Is(err, channels.ErrBadSignature) {
		fail(c, err)
		return false
	}
	if err != nil {
		abortWith(c, http.StatusUnauthorized, "bad_session", "missing or invalid webchat session")
		return false
	}
	return true
}

type webchatMessage struct {
	VisitorID string `json:"visitor_id" binding:"required"`
	ClientID  string `json:"client_id"`
	Text      string `json:"text" binding:"required"`
}

func (h *handlers) webchatPost(c *gin.Context) {
	ch, ok := h.webchatChannel(c)
	if !ok {
		return
	}
	var m webchatMessage
	if !bindJSON(c, &m) || !h.webchatAuth(c, ch, m.VisitorID) {
		return
	}
	res, err := h.d.Webchat.Post(c.Request.Context(), ch, m.VisitorID, m.ClientID, m.Text)
	if errors.Is(err, channels.ErrMalformed) {
		badRequest(c, err.Error())
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

// webchatStream is the visitor's SSE stream of replies. It resumes after
// Last-Event-ID (or ?after=), so a dropped connection loses nothing.
func (h *handlers) webchatStream(c *gin.Context) {
	ch, ok := h.webchatChannel(c)
	if !ok {
		return
	}
	visitor := c.Query("visitor_id")
	if !h.webchatAuth(c, ch, visitor) {
		return
	}
	after, _ := strconv.ParseInt(c.GetHeader("Last-Event-ID"), 10, 64)
	if q, err := strconv.ParseInt(c.Query("after"), 10, 64); err == nil && q > after {
		after = q
	}
	wake, stop := h.d.Hub.Subscribe(channels.WebchatTopic(ch.ID, visitor))
	defer stop()
	w := c.Writer
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	w.Flush()
	ctx := c.Request.Context()
	heartbeat := time.NewTicker(sseHeartbeat)
	defer heartbeat.Stop()
	for {
		replies, err := h.d.Webchat.Replies(ctx, ch, visitor, after)
		if err != nil {
			if ctx.Err() == nil {
				h.d.Log.ErrorContext(ctx, "webchat stream", "request_id", requestID(c), "error", err)
			}
			return
		}
		for _, r := range replies {
			data, _ := json.Marshal(r)
			fmt.Fprintf(w, "id: %d\nevent: message\ndata: %s\n\n", r.ID, data)
			after = r.ID
		}
		w.Flush()
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-heartbeat.C:
			fmt.Fprint(w, ": ping\n\n")
			w.Flush()
		}
	}
}

func serveWidget(c *gin.Context) {
	js, err := webFiles.ReadFile("web/widget.js")
	if err != nil {
		c.Status(http.StatusInternalServerError)
		return
	}
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "application/javascript; charset=utf-8", js)
}

// chatDemo is /chat (the demo account's webchat) or /chat/:channel_id.
func (h *handlers) chatDemo(c *gin.Context) {
	id, err := uuid.Parse(c.Param("channel_id"))
	if err != nil && h.d.DemoWebchat != nil {
		var ok bool
		if id, ok = h.d.DemoWebchat(c.Request.Context()); ok {
			err = nil
		}
	}
	if err != nil {
		c.Data(http.StatusNotFound, "text/html; charset=utf-8", []byte("<p>Nenhum webchat de demonstração: rode <code>atende seed</code> ou abra /chat/&lt;id do canal&gt;.</p>"))
		return
	}
	if _, err := h.d.Channels.ForWebhook(c.Request.Context(), channels.KindWebchat, id); err != nil {
		c.Data(http.StatusNotFound, "text/html; charset=utf-8", []byte("<p>Canal de webchat desconhecido.</p>"))
		return
	}
	c.Header("Content-Type", "text/html; charset=utf-8")
	_ = chatPage.Execute(c.Writer, map[string]string{"ChannelID": id.String()})
}
