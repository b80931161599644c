package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// recipients is a local WhatsApp Cloud API counting replies per number.
type recipients struct {
	*httptest.Server
	mu  sync.Mutex
	got map[string]int
}

func newRecipients(t *testing.T) *recipients {
	r := &recipients{got: map[string]int{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var body struct {
			To string `json:"to"`
		}
		_ = json.NewDecoder(req.Body).Decode(&body)
		r.mu.Lock()
		r.got[body.To]++
		n := len(r.got)
		r.mu.Unlock()
		fmt.Fprintf(w, `{"messaging_product":"whatsapp","messages":[{"id":"wamid.r%d.%d"}]}`, n, time.Now().UnixNano())
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recipients) counts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.got))
	for k, v := range r.got {
		out[k] = v
	}
	return out
}

// Two serve processes on one database share the work — webhooks to either,
// turns and deliveries run by both — and stopping one loses nothing: every
// customer is answered exactly once.
func TestTwoReplicasShareTheWorkAndOneStopping(t *testing.T) {
	a := startServer(t, "atd_replicas_key_0123456789", 1)
	b, stopB := serveOn(t, a.dbURL, a.key) // a second machine behind the load balancer
	sink := newRecipients(t)
	var ch struct{ ID string }
	if code := a.call("POST", "/api/v1/channels", map[string]any{"kind": "whatsapp", "name": "WhatsApp",
		"settings": map[string]string{"phone_number_id": "110220330440551", "base_url": sink.URL},
		"secrets":  map[string]string{"app_secret": "app-secret", "verify_token": "v", "access_token": "EAAG"}}, &ch); code != 201 {
		t.Fatalf("create channel: %d", code)
	}
	send := func(srv *runningServer, phone, text string) error {
		body := fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"551140028922","phone_number_id":"110220330440551"},"contacts":[{"profile":{"name":"Cliente %s"},"wa_id":"%s"}],"messages":[{"from":"%s","id":"wamid.%s","timestamp":"%d","type":"text","text":{"body":%q}}]}}]}]}`,
			phone, phone, phone, phone, time.Now().Unix(), text)
		mac := hmac.New(sha256.New, []byte("app-secret"))
		mac.Write(body)
		req, _ := http.NewRequest("POST", srv.base+"/webhooks/whatsapp/"+ch.ID, bytes.NewReader(body))
		req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("webhook answered %d", resp.StatusCode)
		}
		return nil
	}
	phone := func(i int) string { return fmt.Sprintf("55219876%05d", i) }
	const first, second = 40, 10
	var wg sync.WaitGroup
	errs := make([]error, first)
	for i := range first {
		srv := a
		if i%2 == 1 {
			srv = b
		}
		wg.Go(func() { errs[i] = send(srv, phone(i), "quais as formas de pagamento? aceita pix?") })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	waitAnswered := func(n int) map[string]int {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for {
			got := sink.counts()
			if len(got) >= n {
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d customers answered", len(got), n)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitAnswered(first)
	var workers int
	if err := srvPool(t, a).QueryRow(context.Background(), `SELECT count(DISTINCT attempted_by[array_length(attempted_by, 1)])
		FROM river_job WHERE kind = 'agent_turn'`).Scan(&workers); err != nil {
		t.Fatal(err)
	}
	if workers < 2 {
		t.Fatalf("both replicas ran turns: %d did", workers)
	}
	// One replica goes away (a deploy); the other answers everyone after it.
	stopB()
	for i := first; i < first+second; i++ {
		if err := send(a, phone(i), "e vocês entregam em porto alegre?"); err != nil {
			t.Fatal(err)
		}
	}
	waitAnswered(first + second)
	waitTurnsSettled(t, a)
	got := sink.counts()
	for i := range first + second {
		if got[phone(i)] != 1 {
			t.Fatalf("customer %s got %d replies, want exactly 1 (all: %v)", phone(i), got[phone(i)], got)
		}
	}
}
