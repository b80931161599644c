package api

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/atende/atende/channels"
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
)

// Rate is a token bucket: Burst requests at once, then one more every Every.
// A negative Burst switches that one limit off; a zero Rate takes its default.
type Rate struct {
	Burst int
	Every time.Duration
}

// RateLimits bound what one client can make the public surfaces do: the
// webchat (anyone on the Internet, and every message may cost an LLM call),
// the inbox login (password guessing) and the platform webhooks (unsigned
// callers). The limits are per process: n replicas behind a load balancer
// let through up to n times as much.
//
// An address is the client's IP as gin's ClientIP sees it (an IPv6 address
// counts as its /64, which is what one subscriber gets); forwarding headers
// are believed only from TrustedProxies. Many Brazilian mobile customers
// share one carrier-grade NAT address, so the per-address numbers are far
// above what a person does and only stop floods:
//
//   - WebchatSessionsPerAddress (60 at once, then 1/s): a session is a new
//     visitor (a contact); the widget opens one when its panel is first
//     opened, so 3,600 new visitors an hour behind one address is plenty,
//     and a script no longer creates 500 contacts a second.
//   - WebchatMessagesPerVisitor (20 at once, then 1 every 2 s): nobody types
//     faster; pasting a few lines in a row fits the burst, and the widget's
//     own retries (after 1, 2 and 3 s) get a refused message through.
//   - WebchatMessagesPerAddress (200 at once, then 5/s): 25 to 50 people
//     chatting at once behind one NAT address; one flooding visitor hits its
//     own limit first and does not use up its neighbours' share.
//   - WebchatStreamsPerVisitor (5): a visitor with a few tabs open; a script
//     cannot hold hundreds of streams (and database polls) per visitor.
//   - LoginFailuresPerAddress (20 at once, then 1 every 3 s): counts logins
//     that did not start a session, so an office logging in at nine is never
//     slowed, while guessing is held to 1,200 tries an hour per address (the
//     per-e-mail lockout of handoff still stops 5 failures on one e-mail).
//   - BadSignaturesPerAddress (30 at once, then 1/s): only webhook requests
//     refused for their signature count, so a correctly signed platform
//     delivery is never limited, whatever address it comes from.
//
// A refused request is answered 429 with Retry-After (whole seconds,
// rounded up) and the usual error body with code rate_limited (the login
// form shows the page again with the wait instead).
//
// Memory is bounded: a key unused for IdleAfter (and long enough for its
// bucket to be full again, so nothing is forgotten early) is dropped by a
// sweep at most once a minute, and each limit holds at most MaxKeys keys
// (when full, an arbitrary key is forgotten: that client starts afresh).
//
// The zero value is the defaults (DefaultRateLimits); any zero field takes
// its default. Disabled turns every limit off (load tests); TrustedProxies
// still apply.
type RateLimits struct {
	// Disabled turns every limit off.
	Disabled bool

	WebchatSessionsPerAddress Rate
	WebchatMessagesPerVisitor Rate
	WebchatMessagesPerAddress Rate
	// WebchatStreamsPerVisitor caps a visitor's open SSE streams (negative: no cap).
	WebchatStreamsPerVisitor int
	LoginFailuresPerAddress  Rate
	BadSignaturesPerAddress  Rate

	// TrustedProxies are the addresses whose X-Forwarded-For and X-Real-IP
	// name the client (a load balancer, a reverse proxy). Default none: the
	// connection's address is the client, so a forged header cannot pick a
	// fresh key per request. Behind a proxy that is not listed, every client
	// shares the proxy's address, and its limits.
	TrustedProxies []netip.Prefix

	// IdleAfter is how long an unused key is kept (default 10 minutes).
	IdleAfter time.Duration
	// MaxKeys caps each limit's keys (default 50,000: a few MB per limit).
	MaxKeys int
	// Now is the limits' clock (default time.Now; tests pass a fake one).
	Now func() time.Time
}

// DefaultRateLimits are the limits a server runs with unless told otherwise;
// RateLimits' doc comment explains each number.
func DefaultRateLimits() RateLimits {
	return RateLimits{
		WebchatSessionsPerAddress: Rate{Burst: 60, Every: time.Second},
		WebchatMessagesPerVisitor: Rate{Burst: 20, Every: 2 * time.Second},
		WebchatMessagesPerAddress: Rate{Burst: 200, Every: 200 * time.Millisecond},
		WebchatStreamsPerVisitor:  5,
		LoginFailuresPerAddress:   Rate{Burst: 20, Every: 3 * time.Second},
		BadSignaturesPerAddress:   Rate{Burst: 30, Every: time.Second},
		IdleAfter:                 10 * time.Minute,
		MaxKeys:                   50_000,
		Now:                       time.Now,
	}
}

// withDefaults fills every zero field from DefaultRateLimits.
func (l RateLimits) withDefaults() RateLimits {
	d := DefaultRateLimits()
	orRate := func(r *Rate, def Rate) {
		if r.Burst == 0 {
			r.Burst = def.Burst
		}
		if r.Every <= 0 {
			r.Every = def.Every
		}
	}
	orRate(&l.WebchatSessionsPerAddress, d.WebchatSessionsPerAddress)
	orRate(&l.WebchatMessagesPerVisitor, d.WebchatMessagesPerVisitor)
	orRate(&l.WebchatMessagesPerAddress, d.WebchatMessagesPerAddress)
	orRate(&l.LoginFailuresPerAddress, d.LoginFailuresPerAddress)
	orRate(&l.BadSignaturesPerAddress, d.BadSignaturesPerAddress)
	if l.WebchatStreamsPerVisitor == 0 {
		l.WebchatStreamsPerVisitor = d.WebchatStreamsPerVisitor
	}
	if l.IdleAfter <= 0 {
		l.IdleAfter = d.IdleAfter
	}
	if l.MaxKeys <= 0 {
		l.MaxKeys = d.MaxKeys
	}
	if l.Now == nil {
		l.Now = d.Now
	}
	return l
}

// trustedProxies is TrustedProxies as gin takes them.
func (l RateLimits) trustedProxies() []string {
	out := make([]string, 0, len(l.TrustedProxies))
	for _, p := range l.TrustedProxies {
		out = append(out, p.Masked().String())
	}
	return out
}

// limiters are the process's limits, built once by NewHandler. A nil
// limiter or gate lets everything through (Disabled, or that limit off).
type limiters struct {
	sessions        *keyedLimiter
	messagesVisitor *keyedLimiter
	messagesAddress *keyedLimiter
	streams         *keyedGate
	logins          *keyedLimiter
	badSignatures   *keyedLimiter
}

func newLimiters(cfg RateLimits, reg prometheus.Registerer) *limiters {
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "atende_rate_limited_total", Help: "Requests refused with 429 by a rate limit, by limit.",
	}, []string{"limit"})
	dropped := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "atende_rate_limit_keys_dropped_total",
		Help: "Keys a rate limit forgot early because it held MaxKeys (a sign of a distributed flood, or of a MaxKeys too small), by limit.",
	}, []string{"limit"})
	reg.MustRegister(refused, dropped)
	l := &limiters{}
	if cfg.Disabled {
		return l
	}
	cfg = cfg.withDefaults()
	bucket := func(name string, r Rate) *keyedLimiter {
		if r.Burst < 0 {
			return nil
		}
		return newKeyedLimiter(r, cfg.IdleAfter, cfg.MaxKeys, cfg.Now, refused.WithLabelValues(name), dropped.WithLabelValues(name))
	}
	l.sessions = bucket("webchat_sessions_per_address", cfg.WebchatSessionsPerAddress)
	l.messagesVisitor = bucket("webchat_messages_per_visitor", cfg.WebchatMessagesPerVisitor)
	l.messagesAddress = bucket("webchat_messages_per_address", cfg.WebchatMessagesPerAddress)
	l.logins = bucket("inbox_login_failures_per_address", cfg.LoginFailuresPerAddress)
	l.badSignatures = bucket("webhook_bad_signatures_per_address", cfg.BadSignaturesPerAddress)
	if cfg.WebchatStreamsPerVisitor > 0 {
		l.streams = &keyedGate{max: cfg.WebchatStreamsPerVisitor, open: map[string]int{}, refused: refused.WithLabelValues("webchat_streams_per_visitor")}
	}
	return l
}

// sweepEvery is how often a limit looks for idle keys (on its next use).
const sweepEvery = time.Minute

// keyedLimiter is one token bucket per key (an address, a visitor).
type keyedLimiter struct {
	limit   rate.Limit
	burst   int
	idle    time.Duration
	maxKeys int
	now     func() time.Time
	refused prometheus.Counter
	dropped prometheus.Counter

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
	// pending are requests taken but not settled: each holds a token.
	pending int
}

func newKeyedLimiter(r Rate, idle time.Duration, maxKeys int, now func() time.Time, refused, dropped prometheus.Counter) *keyedLimiter {
	// A key is dropped only once its bucket would be full again anyway.
	idle = max(idle, time.Duration(r.Burst)*r.Every)
	return &keyedLimiter{limit: rate.Every(r.Every), burst: r.Burst, idle: idle, maxKeys: maxKeys, now: now,
		refused: refused, dropped: dropped, buckets: map[string]*bucket{}, swept: now()}
}

// take holds one request of key's bucket until settle says whether it
// counts (settle(false) for one that turned out not to: a login that
// succeeded, a message whose session was refused). Requests in flight hold
// their tokens, so a thousand at once cannot all pass before the first is
// counted. When the bucket is empty nothing is held and wait says how long
// until a request would pass.
func (k *keyedLimiter) take(key string) (settle func(count bool), wait time.Duration, ok bool) {
	if k == nil {
		return func(bool) {}, 0, true
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	if now.Sub(k.swept) >= sweepEvery {
		k.sweep(now)
	}
	b, found := k.buckets[key]
	if !found {
		if len(k.buckets) >= k.maxKeys {
			k.sweep(now)
		}
		for victim := range k.buckets {
			if len(k.buckets) < k.maxKeys {
				break
			}
			delete(k.buckets, victim)
			k.dropped.Inc()
		}
		b = &bucket{lim: rate.NewLimiter(k.limit, k.burst)}
		k.buckets[key] = b
	}
	b.seen = now
	if tokens := b.lim.TokensAt(now) - float64(b.pending); tokens < 1 {
		k.refused.Inc()
		return nil, time.Duration((1 - tokens) / float64(k.limit) * float64(time.Second)), false
	}
	b.pending++
	var once sync.Once
	return func(count bool) {
		once.Do(func() {
			k.mu.Lock()
			defer k.mu.Unlock()
			b.pending--
			if count {
				b.lim.AllowN(k.now(), 1)
			}
		})
	}, 0, true
}

// spend takes one request of key's bucket and counts it at once.
func (k *keyedLimiter) spend(key string) (wait time.Duration, ok bool) {
	settle, wait, ok := k.take(key)
	if ok {
		settle(true)
	}
	return wait, ok
}

// sweep drops the keys idle long enough for their buckets to be full
// (none with a request in flight); k.mu is held.
func (k *keyedLimiter) sweep(now time.Time) {
	for key, b := range k.buckets {
		if b.pending == 0 && now.Sub(b.seen) >= k.idle {
			delete(k.buckets, key)
		}
	}
	k.swept = now
}

// size is how many keys the limit holds (for tests).
func (k *keyedLimiter) size() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.buckets)
}

// keyedGate caps how many requests of one key are in flight at once. It
// holds only the keys with a request open, so its memory is bounded by the
// open connections.
type keyedGate struct {
	max     int
	refused prometheus.Counter
	mu      sync.Mutex
	open    map[string]int
}

// enter admits one more request of key, or refuses it when max are open;
// leave must be called once the admitted request ends.
func (g *keyedGate) enter(key string) (leave func(), ok bool) {
	if g == nil {
		return func() {}, true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open[key] >= g.max {
		g.refused.Inc()
		return nil, false
	}
	g.open[key]++
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			if g.open[key]--; g.open[key] <= 0 {
				delete(g.open, key)
			}
		})
	}, true
}

// clientAddress is the key of the client's address: gin's ClientIP (which
// believes forwarding headers only from trusted proxies), an IPv6 address
// as its /64.
func clientAddress(c *gin.Context) string {
	ip := c.ClientIP()
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is6() {
		if p, err := a.WithZone("").Prefix(64); err == nil {
			return p.String()
		}
	}
	return a.String()
}

// retryAfter is the Retry-After value of a wait: whole seconds, rounded up, at least 1.
func retryAfter(wait time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(wait.Seconds()))))
}

// tooMany answers 429 with Retry-After and the usual error body.
func tooMany(c *gin.Context, wait time.Duration, message string) {
	s := retryAfter(wait)
	c.Header("Retry-After", s)
	abortWith(c, http.StatusTooManyRequests, "rate_limited", message+"; retry in "+s+" s")
}

// webchatRefused answers a refused webchat call so that the widget, on
// another origin, can read it (CORS headers, Retry-After exposed).
func webchatRefused(c *gin.Context, wait time.Duration, message string) {
	c.Header("Access-Control-Allow-Origin", "*")
	c.Header("Access-Control-Expose-Headers", "Retry-After")
	tooMany(c, wait, message)
}

// limitWebchatSessions bounds new webchat sessions per address.
func (l *limiters) limitWebchatSessions(c *gin.Context) {
	if wait, ok := l.sessions.spend(clientAddress(c)); !ok {
		webchatRefused(c, wait, "too many new webchat sessions from this address")
		return
	}
	c.Next()
}

// limitWebchatMessages bounds webchat messages per visitor, then per
// address. The visitor is read from the body (which is put back for the
// handler); a message refused for its session gives its visitor's share
// back, so a stranger cannot use up a visitor's messages.
func (l *limiters) limitWebchatMessages(c *gin.Context) {
	// The address first: an address already refused must not go on adding
	// visitor keys (found in review: 3,000 keys, 188 MiB, from one address).
	if wait, ok := l.messagesAddress.spend(clientAddress(c)); !ok {
		webchatRefused(c, wait, "too many webchat messages from this address")
		return
	}
	settle := func(bool) {}
	if l.messagesVisitor != nil {
		if key, ok := visitorKey(c, peekVisitor(c)); ok {
			var wait time.Duration
			if settle, wait, ok = l.messagesVisitor.take(key); !ok {
				webchatRefused(c, wait, "too many messages from this visitor")
				return
			}
		}
	}
	defer func() { settle(c.Writer.Status() != http.StatusUnauthorized) }()
	c.Next()
}

// visitorKey is the rate-limit key of a webchat visitor, when the channel
// and visitor ids have the shape Atende gives them: a made-up id of any
// size never becomes a key (the handler refuses it anyway).
func visitorKey(c *gin.Context, visitor string) (string, bool) {
	channel, err := uuid.Parse(c.Param("channel_id"))
	if err != nil || !channels.ValidVisitorID(visitor) {
		return "", false
	}
	return channel.String() + "/" + visitor, true
}

// peekVisitor reads visitor_id from a webchat message's JSON body and puts
// the body back as it was (a read error, such as a body over the cap, is
// met again by the handler).
func peekVisitor(c *gin.Context) string {
	if c.Request.Body == nil {
		return ""
	}
	raw, err := io.ReadAll(c.Request.Body)
	rest := io.Reader(bytes.NewReader(raw))
	if err != nil {
		rest = io.MultiReader(rest, errReader{err})
	}
	c.Request.Body = struct {
		io.Reader
		io.Closer
	}{rest, c.Request.Body}
	if err != nil {
		return ""
	}
	var m struct {
		VisitorID string `json:"visitor_id"`
	}
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	return m.VisitorID
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// limitWebchatStreams caps a visitor's open SSE streams.
func (l *limiters) limitWebchatStreams(c *gin.Context) {
	key, valid := visitorKey(c, c.Query("visitor_id"))
	if !valid {
		c.Next() // refused by the handler: no session for such an id
		return
	}
	leave, ok := l.streams.enter(key)
	if !ok {
		// Not a matter of time: a stream frees a place when it closes.
		webchatRefused(c, 5*time.Second, "too many open webchat streams for this visitor")
		return
	}
	defer leave()
	c.Next()
}

// limitInboxLogins bounds failed inbox logins per address: once they are
// used up, the login page is shown again (429, Retry-After) saying how long
// to wait, whatever the password. A login that starts a session gives its
// share back.
func (h *handlers) limitInboxLogins(c *gin.Context) {
	settle, wait, ok := h.limits.logins.take(clientAddress(c))
	if !ok {
		requestLog(c).WarnContext(c.Request.Context(), "inbox login refused: too many from this address", "address", clientAddress(c))
		c.Header("Retry-After", retryAfter(wait))
		token := randomToken()
		h.setCookie(c, loginCSRFCookie, token, 600)
		h.render(c, http.StatusTooManyRequests, "login.html", gin.H{"CSRF": token, "Next": safeNext(c.PostForm("next")),
			"Account": c.DefaultPostForm("empresa", "demo"), "Error": "limite", "Retry": retryAfter(wait)})
		c.Abort()
		return
	}
	defer func() { settle(!startedSession(c)) }()
	c.Next()
}

// startedSession says whether the response sets a session cookie (a login that succeeded).
func startedSession(c *gin.Context) bool {
	for _, v := range c.Writer.Header().Values("Set-Cookie") {
		if strings.HasPrefix(v, sessionCookie+"=") && !strings.HasPrefix(v, sessionCookie+"=;") {
			return true
		}
	}
	return false
}

// refuseBadSignature is called for a webhook request whose signature was
// refused: it counts it against the caller's address and, once they are
// used up, answers 429 itself (reporting true). Signed deliveries never
// reach it.
func (h *handlers) refuseBadSignature(c *gin.Context) bool {
	if wait, ok := h.limits.badSignatures.spend(clientAddress(c)); !ok {
		tooMany(c, wait, "too many requests with a bad signature from this address")
		return true
	}
	return false
}
