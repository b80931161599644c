// Package api is Atende's HTTP surface on gin: the REST API, health and
// metrics endpoints, and (in later issues) webhooks and pages. It only
// translates HTTP to the domain packages and back; nothing imports it.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/atende/atende/accounts"
	"github.com/atende/atende/agents"
	"github.com/atende/atende/audit"
	"github.com/atende/atende/canned"
	"github.com/atende/atende/channels"
	"github.com/atende/atende/conversations"
	"github.com/atende/atende/erasure"
	"github.com/atende/atende/handoff"
	"github.com/atende/atende/internal/notify"
	"github.com/atende/atende/internal/outbound"
	"github.com/atende/atende/knowledge"
	"github.com/atende/atende/media"
	"github.com/atende/atende/memory"
	"github.com/atende/atende/prompts"
	"github.com/atende/atende/reports"
	"github.com/atende/atende/tags"
	"github.com/atende/atende/webhooks"
)

// Authenticator resolves an API key to its account.
type Authenticator interface {
	Caller(ctx context.Context, key string) (accounts.Caller, error)
}

// ReadinessCheck reports whether the server can serve: database reachable and
// every migration applied.
type ReadinessCheck func(ctx context.Context) error

// Deps are what the API needs, passed explicitly.
type Deps struct {
	// Pool runs the few units of work the API opens itself (database.InTx).
	Pool          *pgxpool.Pool
	Conversations *conversations.Store
	Knowledge     *knowledge.Store
	Auth          Authenticator
	Memory        *memory.Store
	Viewer        *memory.Viewer
	Channels      *channels.Store
	Ingestor      *channels.Ingestor
	Outbox        *channels.Outbox
	Webchat       *channels.Webchat
	Hub           *notify.Hub
	Prompts       *prompts.Library
	Agents        *agents.Orchestrator
	Handoffs      *handoff.Service
	Webhooks      *webhooks.Store
	// Tags serves the tags of contacts and conversations and the inbox's chips.
	Tags *tags.Store
	// MediaFiles and Blobs serve /api/v1/media (nil: the route answers 404).
	MediaFiles *media.Files
	Blobs      media.Blobs
	// MediaLinks signs the public links an attendant's files are sent by
	// (nil or not Enabled: a reply carries no file but on the webchat).
	MediaLinks *media.Links
	// Audit keeps the trail of who did what (nil: nothing is recorded).
	Audit *audit.Store
	// Erasure serves DELETE /api/v1/contacts/{id} (nil: the route answers 501).
	Erasure *erasure.Service
	// Accounts finds the company an attendant logs in to.
	Accounts AccountFinder
	// Outbound checks the URLs a tenant registers (channel base_url and SMTP
	// host, webhook subscriptions) so a refused one is a 422 at once rather
	// than a failure at every send; the dial itself is checked again.
	Outbound outbound.Policy
	// Keys serves /api/v1/keys (nil: Auth, when it manages keys too).
	Keys KeyManager
	// PublicURL is the server's public address; https makes cookies Secure.
	PublicURL string
	// DemoWebchat names the channel /chat shows (nil: /chat needs an id).
	DemoWebchat DemoWebchat
	Ready       ReadinessCheck
	// Log is the one logger of the HTTP surface: access lines, failed
	// requests and recovered panics, each with its request id (nil: nothing
	// is logged; the process-wide slog default is never used).
	Log      *slog.Logger
	Registry *prometheus.Registry
	// Now is the clock webhook verification compares timestamps with (default time.Now).
	Now func() time.Time
	// MaxBodyBytes caps request bodies (default 1 MiB; imports may be larger: 8 MiB).
	MaxBodyBytes int64
	// RateLimits bound the public surfaces (webchat, inbox login, unsigned
	// webhook callers) per client address and visitor, and say which proxies
	// may name the client; the zero value is DefaultRateLimits.
	RateLimits RateLimits
}

// DefaultMaxBodyBytes is the body cap when Deps leaves it zero.
const DefaultMaxBodyBytes = 1 << 20

// importMaxBodyBytes is the cap for history imports, which carry many events at once.
const importMaxBodyBytes = 8 << 20

// NewHandler builds the HTTP handler with every route.
func NewHandler(d Deps) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = DefaultMaxBodyBytes
	}
	r := gin.New()
	r.HandleMethodNotAllowed = true
	// gin believes X-Forwarded-For from anyone by default: only the listed
	// proxies may name the client, or a forged header would choose its own
	// rate-limit key. The prefixes are parsed already, so this cannot fail.
	_ = r.SetTrustedProxies(d.RateLimits.trustedProxies())
	metrics := newHTTPMetrics(d.Registry)
	if d.Log == nil {
		d.Log = discardLog
	}
	// Recovery innermost, so a panic is still logged and counted as its 500.
	r.Use(withRequestID(d.Log), accessLog(d.Log), metrics.middleware(), recoverJSON())
	r.NoRoute(func(c *gin.Context) { abortWith(c, http.StatusNotFound, "not_found", "no such endpoint") })
	r.NoMethod(func(c *gin.Context) {
		abortWith(c, http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed on this endpoint")
	})

	h := &handlers{d: d, reports: reports.New(d.Pool), webhooks: newWebhookMetrics(d.Registry), limits: newLimiters(d.RateLimits, d.Registry)}
	h.canned = canned.NewStore(d.Pool)
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", h.ready)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(d.Registry, promhttp.HandlerOpts{})))
	r.GET("/api/v1/openapi.yaml", serveOpenAPI)
	r.GET("/webhooks/:kind/:channel_id", h.webhookVerify)
	r.POST("/webhooks/:kind/:channel_id", h.webhookReceive)
	r.GET("/chat", h.chatDemo)
	r.GET("/chat/widget.js", serveWidget)
	r.GET("/chat/:channel_id", h.chatDemo)
	r.OPTIONS("/webchat/:channel_id/sessions", webchatPreflight)
	r.OPTIONS("/webchat/:channel_id/messages", webchatPreflight)
	r.POST("/webchat/:channel_id/sessions", h.limits.limitWebchatSessions, limitBody(64<<10), h.webchatSession)
	r.POST("/webchat/:channel_id/messages", limitBody(64<<10), h.limits.limitWebchatMessages, h.webchatPost)
	r.GET("/webchat/:channel_id/stream", h.limits.limitWebchatStreams, h.webchatStream)

	r.GET("/media/:sha", h.publicMedia)
	r.GET("/inbox/assets/inbox.css", serveInboxAsset)
	r.GET("/inbox/assets/inbox.js", serveInboxAsset)
	r.GET("/inbox/login", h.inboxLoginPage)
	r.POST("/inbox/login", limitBody(16<<10), h.limitInboxLogins, h.inboxLogin)
	inbox := r.Group("/inbox", h.inboxSession, h.audited)
	inbox.GET("", h.inboxQueue)
	inbox.GET("/events", h.inboxEvents)
	inbox.GET("/handoffs/:id", h.inboxCard)
	inbox.GET("/search", h.inboxSearch)
	inbox.GET("/media/:id", h.inboxMedia)
	inbox.GET("/bot", h.inboxLive)
	inbox.GET("/auditoria", h.inboxAudit)
	inbox.GET("/relatorios", h.inboxReports)
	inbox.POST("/conversations/:id/takeover", limitBody(4<<10), h.inboxTakeOver)
	inbox.POST("/handoffs/:id/:action", limitInboxAct(64<<10), h.inboxAct)
	inbox.POST("/contacts/:id/fields", limitBody(16<<10), h.inboxFields)
	inbox.POST("/contacts/:id/claims/merge", limitBody(4<<10), h.inboxMergeClaim)
	inbox.GET("/contacts/:id/canned", h.inboxCanned)
	inbox.POST("/contacts/:id/tags", limitBody(4<<10), h.inboxTag(true))
	inbox.POST("/contacts/:id/tags/remove", limitBody(4<<10), h.inboxTag(false))
	inbox.POST("/logout", limitBody(4<<10), h.inboxLogout)

	v1 := r.Group("/api/v1", h.authenticate, h.audited)
	small := limitBody(d.MaxBodyBytes)
	v1.POST("/contacts", small, h.createContact)
	v1.GET("/contacts", h.listContacts)
	v1.GET("/contacts/:id", h.getContact)
	v1.DELETE("/contacts/:id", h.eraseContact)
	v1.PATCH("/contacts/:id/fields", small, h.updateFields)
	v1.GET("/contacts/:id/timeline", h.timeline)
	v1.POST(`/contacts/:id/events\:import`, limitBody(max(d.MaxBodyBytes, importMaxBodyBytes)), h.importEvents)
	v1.POST("/contacts/:id/identities", small, h.linkIdentity)
	v1.POST("/contacts/:id/merge", small, h.merge)
	v1.POST("/contacts/:id/unmerge", small, h.unmerge)
	v1.POST("/contacts/:id/notes", small, h.addNote)
	v1.POST("/contacts/:id/messages", small, h.sendMessage)
	v1.GET("/contacts/:id/memory", h.memoryView)
	v1.GET("/search", h.search)
	for _, t := range []struct {
		path string
		of   func(uuid.UUID) tags.Subject
	}{{"/contacts/:id/tags", tags.Contact}, {"/conversations/:id/tags", tags.Conversation}} {
		v1.GET(t.path, h.listTagsOf(t.of))
		v1.PUT(t.path, small, h.setTagsOf(t.of))
		v1.POST(t.path, small, h.addTagTo(t.of))
		v1.DELETE(t.path+"/:tag", h.removeTagFrom(t.of))
	}
	v1.GET("/tags", h.listTags)
	v1.POST("/channels", small, h.createChannel)
	v1.GET("/media/:id", h.getMedia)
	v1.GET("/channels", h.listChannels)
	v1.GET("/channels/:id", h.getChannel)
	v1.POST("/channels/:id/secrets", small, h.rotateSecrets)
	v1.PUT("/knowledge", small, h.putKnowledge)
	v1.GET("/knowledge", h.getKnowledge)
	v1.GET("/canned-responses", h.listCanned)
	v1.POST("/canned-responses", small, h.createCanned)
	v1.GET("/canned-responses/:id", h.getCanned)
	v1.PUT("/canned-responses/:id", small, h.putCanned)
	v1.DELETE("/canned-responses/:id", h.deleteCanned)
	v1.POST("/canned-responses/:id/render", small, h.renderCanned)
	v1.GET("/prompts", h.listPrompts)
	v1.GET("/prompts/:name/versions", h.promptVersions)
	v1.POST("/prompts/:name/versions", small, h.createPromptVersion)
	v1.POST("/prompts/:name/versions/:version/activate", h.activatePrompt)
	v1.GET("/prompts/:name/diff", h.diffPrompts)
	v1.GET("/conversations/live", h.liveConversations)
	v1.GET("/conversations/:id", h.getConversation)
	v1.POST("/conversations/:id/sector", small, h.reassignConversation)
	v1.POST("/conversations/:id/takeover", small, h.takeOver)
	v1.GET("/handoffs", h.listHandoffs)
	v1.GET("/reports/summary", h.reportSummary)
	v1.GET("/handoffs/:id", h.getHandoff)
	v1.POST("/handoffs/:id/:action", limitReply(d.MaxBodyBytes, replyMaxBytes*4/3+(64<<10)), h.handoffAct) // a reply may carry a file in base64
	v1.GET("/attendants", h.listAttendants)
	v1.PUT("/attendants", small, h.putAttendant)
	v1.PUT("/teams", small, h.putTeams)
	v1.POST("/webhooks", small, h.subscribe)
	v1.GET("/webhooks", h.listSubscriptions)
	v1.DELETE("/webhooks/:id", h.unsubscribe)
	v1.GET("/webhooks/:id/deliveries", h.deliveries)
	v1.GET("/audit", h.listAudit)
	v1.GET("/keys", h.listKeys)
	v1.POST("/keys", small, h.createKey)
	v1.DELETE("/keys/:id", h.revokeKey)
	return r
}

type handlers struct {
	d        Deps
	reports  *reports.Store
	webhooks *webhookMetrics
	limits   *limiters
	canned   *canned.Store
}

func (h *handlers) ready(c *gin.Context) {
	if err := h.d.Ready(c.Request.Context()); err != nil {
		// The cause (a database address, a driver message) goes to the log
		// only: /readyz answers anyone, load balancers included.
		requestLog(c).WarnContext(c.Request.Context(), "not ready", "error", err)
		abortWith(c, http.StatusServiceUnavailable, "not_ready",
			"not ready: the database is unreachable or not migrated (see the server log, request id "+requestID(c)+")")
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

// authenticate requires "Authorization: Bearer <api key>" and scopes the
// request to the key's account.
func (h *handlers) authenticate(c *gin.Context) {
	scheme, key, ok := strings.Cut(c.GetHeader("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		abortWith(c, http.StatusUnauthorized, "unauthorized", "send Authorization: Bearer <api key>")
		return
	}
	caller, err := h.d.Auth.Caller(c.Request.Context(), key)
	if err != nil {
		fail(c, err)
		return
	}
	c.Set("account_id", caller.Account.ID.String())
	c.Set("account", caller.Account)
	c.Set("caller", caller)
	c.Next()
}

func accountID(c *gin.Context) uuid.UUID {
	return c.MustGet("account").(accounts.Account).ID
}

// contactID reads :id; a malformed id names no contact, so it is a 404.
func contactID(c *gin.Context) (uuid.UUID, bool) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		abortWith(c, http.StatusNotFound, "not_found", "not found")
		return uuid.Nil, false
	}
	return id, true
}
