package api

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// Made-up visitor ids from one address never grow the limiter: the address
// is limited first, and only ids of the shape Atende hands out become keys
// (found in review: 3,000 keys of ~60 KiB from one refused address).
func TestVisitorKeysDoNotGrowFromMadeUpIDs(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	l := newLimiters(RateLimits{}, prometheus.NewRegistry())
	r := gin.New()
	r.POST("/webchat/:channel_id/messages", limitBody(64<<10), l.limitWebchatMessages, func(c *gin.Context) {
		c.Status(http.StatusUnauthorized) // as webchatAuth answers a stranger
	})
	pad := strings.Repeat("x", 60<<10)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	refused := 0
	const n = 3000
	for i := range n {
		body := []byte(`{"visitor_id":"` + pad + strconv.Itoa(i) + `","text":"hi"}`)
		req := httptest.NewRequest("POST", "/webchat/not-a-channel-"+strconv.Itoa(i)+"/messages", bytes.NewReader(body))
		req.RemoteAddr = "198.51.100.7:1234"
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		if w.Code == http.StatusTooManyRequests {
			refused++
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	t.Logf("refused by address: %d/%d; visitor keys held: %d; heap grew %d MiB", refused, n, l.messagesVisitor.size(), (int64(after.HeapAlloc)-int64(before.HeapAlloc))>>20)
	if l.messagesVisitor.size() > 0 {
		t.Fatalf("one address (refused %d times) made the limiter hold %d visitor keys of ~60 KiB each", refused, l.messagesVisitor.size())
	}
}
