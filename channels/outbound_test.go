package channels

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atende/atende/internal/outbound"
	"github.com/atende/atende/memory"
)

// internalService is what a tenant should never reach: a loopback admin page
// that would hand its secrets to whoever reads its answer back.
func internalService(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte("INTERNAL-ADMIN-PAGE: db_password=hunter2"))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// sendUntilFailed queues a reply on ch to a customer who wrote an hour ago
// and returns its statuses once it failed for good.
func (e *outboxEnv) sendUntilFailed(t *testing.T, ch Channel) []memory.Event {
	t.Helper()
	contact := e.contactWhoWrote(t, memory.KindWhatsApp, "5511987654321", KindWhatsApp, time.Hour)
	ev := e.queue(t, Outgoing{ContactID: contact, ChannelID: ch.ID, Author: memory.AuthorAI, Text: "Oi!"})
	return e.waitStatus(t, ev, "failed", 1)
}

// A channel pointed at an internal address is refused at the dial under the
// default policy: nothing reaches it, the failure is final and says why,
// and no internal answer is on the timeline.
func TestABaseURLAtAnInternalAddressIsNeverDialed(t *testing.T) {
	internal, hits := internalService(t)
	e := newOutboxEnvWith(t, outbound.Policy{})
	ch := e.whatsapp(t, internal.URL) // stored by the business file or an old version: the dial still refuses
	statuses := e.sendUntilFailed(t, ch)
	if !strings.Contains(statuses[0].Text, "blocked by the outbound policy") || strings.Contains(statuses[0].Text, "INTERNAL") {
		t.Fatalf("the failure reads %q", statuses[0].Text)
	}
	if hits.Load() != 0 {
		t.Fatalf("the internal service was reached %d times", hits.Load())
	}
}

// A platform the operator allowed that redirects to an internal address does
// not get the request (and the channel's token) there.
func TestARedirectToAnInternalAddressIsNotFollowed(t *testing.T) {
	internal, hits := internalService(t)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, internal.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirector.Close)
	e := newOutboxEnvWith(t, outbound.MustParse(strings.TrimPrefix(redirector.URL, "http://")))
	ch := e.whatsapp(t, redirector.URL)
	statuses := e.sendUntilFailed(t, ch)
	if !strings.Contains(statuses[0].Text, "blocked by the outbound policy") || strings.Contains(statuses[0].Text, "INTERNAL") {
		t.Fatalf("the failure reads %q", statuses[0].Text)
	}
	if hits.Load() != 0 {
		t.Fatalf("the redirect was followed to the internal service %d times", hits.Load())
	}
}

// With the operator's explicit allowance the same address is a platform like
// any other, and its refusal is told by status and code, never its text.
func TestAnAllowedInternalPlatformsAnswerIsNotCopied(t *testing.T) {
	internal, hits := internalService(t)
	e := newOutboxEnvWith(t, outbound.TestRig())
	ch := e.whatsapp(t, internal.URL)
	statuses := e.sendUntilFailed(t, ch)
	if hits.Load() != 1 || !strings.Contains(statuses[0].Text, "HTTP 403") || strings.Contains(statuses[0].Text, "hunter2") {
		t.Fatalf("after %d requests the failure reads %q", hits.Load(), statuses[0].Text)
	}
}
