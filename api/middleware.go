package api

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

const requestIDHeader = "X-Request-Id"

// requestLogKey is where withRequestID keeps the request's logger in the gin context.
const requestLogKey = "request_log"

func requestID(c *gin.Context) string { return c.GetString("request_id") }

// discardLog stands in when no logger reached the request (a handler called
// outside NewHandler): nothing is ever written to the process-wide default.
var discardLog = slog.New(slog.DiscardHandler)

// requestLog is the configured logger (Deps.Log) with the request's id, for
// code such as fail that holds only the gin context: every line a request
// causes goes to the one JSON log and carries the id the user was shown.
func requestLog(c *gin.Context) *slog.Logger {
	if l, ok := c.Get(requestLogKey); ok {
		if l, ok := l.(*slog.Logger); ok {
			return l
		}
	}
	return discardLog
}

// withRequestID takes the caller's X-Request-Id (when sane) or makes one, and
// echoes it, so a user's report and our logs meet on one id; it keeps log,
// with that id, as the request's logger.
func withRequestID(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(requestIDHeader)
		if id == "" || len(id) > 128 || strings.ContainsAny(id, "\r\n") {
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		c.Set("request_id", id)
		c.Set(requestLogKey, log.With(slog.String("request_id", id)))
		c.Header(requestIDHeader, id)
		c.Next()
	}
}

// accessLog writes one structured line per request. Query strings are left
// out: they carry identifiers (phones, e-mails, CPFs).
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		log.LogAttrs(c.Request.Context(), slog.LevelInfo, "request",
			slog.String("request_id", requestID(c)),
			slog.String("method", c.Request.Method),
			slog.String("route", c.FullPath()),
			slog.Int("status", c.Writer.Status()),
			slog.Duration("duration", time.Since(start)),
			slog.String("account_id", c.GetString("account_id")),
		)
	}
}

// recoverJSON turns a panic into a 500 with the JSON error body, so no panic
// ever reaches a user as a dropped connection or a stack trace, and logs it
// (value, route, stack) through the request's logger with its id, never
// through gin's writer to stderr. It runs inside accessLog and the metrics,
// so a panicked request is still logged and counted as the 500 it answered.
// A client that went away (broken pipe) is not logged as a panic: gin
// records it on the context and aborts.
func recoverJSON() gin.HandlerFunc {
	return gin.CustomRecoveryWithWriter(nil, func(c *gin.Context, rec any) {
		requestLog(c).ErrorContext(c.Request.Context(), "panic serving request",
			slog.String("method", c.Request.Method), slog.String("route", c.FullPath()),
			slog.Any("panic", rec), slog.String("stack", string(debug.Stack())))
		abortWith(c, http.StatusInternalServerError, "internal", "internal error; quote request id "+requestID(c))
	})
}

// limitBody caps request bodies; reading past the cap fails with
// *http.MaxBytesError, which handlers answer with 413.
func limitBody(max int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > max {
			abortWith(c, http.StatusRequestEntityTooLarge, "too_large", "request body is larger than "+strconv.FormatInt(max, 10)+" bytes")
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, max)
		c.Next()
	}
}

// httpMetrics counts requests and their latency by route and status.
type httpMetrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "atende_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "atende_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

func (m *httpMetrics) middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(c.Writer.Status())).Inc()
		m.latency.WithLabelValues(route, c.Request.Method).Observe(time.Since(start).Seconds())
	}
}
