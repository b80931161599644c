package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/atende/atende/accounts"
	"github.com/atende/atende/channels"
	"github.com/atende/atende/handoff"
	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/media"
	"github.com/atende/atende/memory"
)

// Everything the erased person said, typed or is called carries this
// marker, so a scan of every table finds any copy left behind.
const erasedMarker = "apagar7731"

// storedFile records a media item of a new message of contact and stores
// body as its file, through the real paths (PendingTx, Put, StoredTx).
func (s *testServer) storedFile(t *testing.T, acct, contact uuid.UUID, body []byte) (uuid.UUID, string) {
	t.Helper()
	ctx := context.Background()
	var file uuid.UUID
	err := database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		ev, err := s.store.AppendTx(ctx, tx, acct, memory.Event{ContactID: contact, Kind: memory.EventMessage, Direction: memory.DirectionIn,
			Author: memory.AuthorContact, Channel: "whatsapp", Media: []memory.Media{{Type: "image", PlatformID: uuid.NewString()}}})
		if err != nil {
			return err
		}
		file, err = s.mediaFiles.PendingTx(ctx, tx, acct, media.Item{EventID: ev.Event.ID, Kind: "image", FileName: "foto.png"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.blobs.Put(ctx, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return s.mediaFiles.StoredTx(ctx, tx, acct, file, b, "image/png") }); err != nil {
		t.Fatal(err)
	}
	return file, b.SHA256
}

func (s *testServer) blobExists(t *testing.T, sha string) bool {
	t.Helper()
	r, err := s.blobs.Open(context.Background(), sha)
	if err != nil {
		return false
	}
	_ = r.Close()
	return true
}

func (s *testServer) countRows(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := s.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// rowsMentioning lists, for every table of the database (River's included),
// how many rows hold text somewhere in them.
func (s *testServer) rowsMentioning(t *testing.T, text string, except ...string) map[string]int {
	t.Helper()
	ctx := context.Background()
	rows, err := s.pool.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]int{}
	for _, table := range tables {
		if slices.Contains(except, table) {
			continue
		}
		// Table names come from the catalog, quoted.
		n := s.countRows(t, `SELECT count(*) FROM `+pgx.Identifier{table}.Sanitize()+` x WHERE x::text ILIKE '%' || $1 || '%'`, text)
		if n > 0 {
			found[table] = n
		}
	}
	return found
}

// DELETE /api/v1/contacts/{id} erases the person: the contact and its merged
// duplicates, their messages on every channel, identities, fields, notes,
// conversations, handoff card, CSAT request, webhook deliveries, webchat
// session, routing example and media — in every table — and the files they
// sent, but not a file someone else sent too. Another account's key erases
// nothing; a second DELETE is 404; the same phone writing again is someone new.
func TestEraseContactLeavesNothingOfThePerson(t *testing.T) {
	s := newTestServer(t)
	ctx := context.Background()
	metaSecrets := map[string]string{"app_secret": metaSecret, "verify_token": verifyToken, "access_token": "x"}
	wa := s.channel(t, channels.NewChannel{Kind: channels.KindWhatsApp, Name: "wa", Settings: map[string]string{"phone_number_id": "1"}, Secrets: metaSecrets})
	tg := s.channel(t, channels.NewChannel{Kind: channels.KindTelegram, Name: "tg", Secrets: map[string]string{"bot_token": "1:x", "secret_token": telegramSecret}})
	wc := s.channel(t, channels.NewChannel{Kind: channels.KindWebchat, Name: "site"})
	var sub struct{ ID string }
	if code := s.call(t, s.keyA, "POST", "/api/v1/webhooks", map[string]any{"url": "http://127.0.0.1:1/hook",
		"events": []string{"message.created", "handoff.created", "contact.merged", "contact.erased"}}, &sub); code != http.StatusCreated {
		t.Fatalf("subscribe: %d", code)
	}
	now := s.unixNow()
	waMessage := func(id, text string) {
		t.Helper()
		body := fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
			"metadata":{"display_phone_number":"5511900000000","phone_number_id":"1"},"contacts":[{"profile":{"name":"Erasmo %s"},"wa_id":"5511987657731"}],
			"messages":[{"from":"5511987657731","id":"%s","timestamp":"%d","type":"text","text":{"body":%q}}]}}]}]}`, erasedMarker, id, now, text)
		if code, reply := s.post(t, webhookPath(wa), body, metaHeaders(body)); code != 200 || reply.Stored != 1 {
			t.Fatalf("whatsapp message: %d %+v", code, reply)
		}
	}
	waMessage("wamid.erase1", "meu pedido "+erasedMarker+" atrasou")
	body := fmt.Appendf(nil, `{"update_id":900007731,"message":{"message_id":7731,"from":{"id":5100007731,"is_bot":false,"first_name":"Erasmo"},
		"chat":{"id":5100007731,"type":"private"},"date":%d,"text":"sou eu de novo, %s"}}`, now, erasedMarker)
	if code, reply := s.post(t, webhookPath(tg), body, map[string]string{"X-Telegram-Bot-Api-Secret-Token": telegramSecret}); code != 200 || reply.Stored != 1 {
		t.Fatalf("telegram message: %d %+v", code, reply)
	}
	var sess struct{ Token string }
	if code := s.call(t, "", "POST", "/webchat/"+wc.ID.String()+"/sessions", map[string]string{"visitor_id": "visitor" + erasedMarker}, &sess); code != 200 {
		t.Fatalf("webchat session: %d", code)
	}
	wcPost := func() int {
		t.Helper()
		body := []byte(`{"visitor_id":"visitor` + erasedMarker + `","client_id":"c-erase-1","text":"pelo site: ` + erasedMarker + `"}`)
		code, _ := s.post(t, "/webchat/"+wc.ID.String()+"/messages", body, map[string]string{"X-Webchat-Token": sess.Token})
		return code
	}
	if code := wcPost(); code != 200 {
		t.Fatalf("webchat message: %d", code)
	}
	person := s.contactBy(t, "phone:+5511987657731")
	tgDup := s.contactBy(t, "telegram:5100007731")
	wcDup := s.contactBy(t, "webchat:visitor"+erasedMarker)
	for _, dup := range []contactJSON{tgDup, wcDup} {
		if code := s.call(t, s.keyA, "POST", "/api/v1/contacts/"+person.ID+"/merge", map[string]string{"other_id": dup.ID}, nil); code != 200 {
			t.Fatalf("merge %s: %d", dup.ID, code)
		}
	}
	if code := s.call(t, s.keyA, "PATCH", "/api/v1/contacts/"+person.ID+"/fields", map[string]any{"fields": map[string]any{"observacao": "campo " + erasedMarker}}, nil); code != 200 {
		t.Fatalf("fields: %d", code)
	}
	if code := s.call(t, s.keyA, "POST", "/api/v1/contacts/"+person.ID+"/notes", map[string]string{"text": "nota " + erasedMarker}, nil); code != http.StatusCreated {
		t.Fatalf("note: %d", code)
	}
	personID := mustUUID(t, person.ID)
	ids := []uuid.UUID{personID, mustUUID(t, tgDup.ID), mustUUID(t, wcDup.ID)}
	// The merges kept one open conversation (of three).
	var conv uuid.UUID
	if err := s.pool.QueryRow(ctx, `SELECT id FROM conversations WHERE account_id = $1 AND contact_id = $2 AND status <> 'resolved'`,
		s.acctA, personID).Scan(&conv); err != nil {
		t.Fatalf("the open conversation: %v", err)
	}
	// A person moved the conversation: the customer's text became a routing example,
	// and a trained router version keeps a copy of it.
	if code := s.call(t, s.keyA, "POST", "/api/v1/conversations/"+conv.String()+"/sector", map[string]any{"sector": "support", "by": "ana"}, nil); code != 200 {
		t.Fatalf("reassign: %d", code)
	}
	var exampleID int64
	if err := s.pool.QueryRow(ctx, `SELECT id FROM routing_examples WHERE account_id = $1`, s.acctA).Scan(&exampleID); err != nil {
		t.Fatal(err)
	}
	examples, _ := json.Marshal([]map[string]any{{"id": "builtin-1", "text": "quero comprar", "sector": "sales"},
		{"id": fmt.Sprintf("correction-%d", exampleID), "text": "meu pedido " + erasedMarker + " atrasou", "sector": "support"}})
	if _, err := s.pool.Exec(ctx, `INSERT INTO router_versions (account_id, version, examples, report, active) VALUES ($1, 'router@test', $2, '{}', true)`,
		s.acctA, examples); err != nil {
		t.Fatal(err)
	}
	var card handoff.Handoff
	err := database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		card, err = s.handoffs.Open(ctx, tx, handoff.Request{AccountID: s.acctA, ContactID: personID, ConversationID: conv,
			Source: "customer", Reason: "asked_for_person", Sector: "support", SLA: 15 * time.Minute, Channel: "whatsapp"})
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO csat_requests (conversation_id, account_id, contact_id) VALUES ($1, $2, $3)`, conv, s.acctA, personID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Files: one only the person sent; one that someone in the other
	// account sent too (the same bytes are one blob).
	own := append([]byte("\x89PNG\r\n\x1a\nown-"), erasedMarker...)
	sharedBytes := []byte("\x89PNG\r\n\x1a\nshared-photo")
	ownFile, ownSHA := s.storedFile(t, s.acctA, personID, own)
	_, sharedSHA := s.storedFile(t, s.acctA, personID, sharedBytes)
	stranger, err := s.store.CreateContact(ctx, s.acctB, memory.NewContact{Name: "Outra Pessoa"})
	if err != nil {
		t.Fatal(err)
	}
	strangerFile, strangerSHA := s.storedFile(t, s.acctB, stranger.Contact.ID, sharedBytes)
	if strangerSHA != sharedSHA || !s.blobExists(t, ownSHA) {
		t.Fatal("setup: the shared photo must be one blob, the own one stored")
	}
	if _, err := s.store.ChunkContact(ctx, s.acctA, personID); err != nil {
		t.Fatal(err)
	}
	before := s.rowsMentioning(t, erasedMarker)
	t.Logf("the marker before the erasure: %v", before)
	for _, table := range []string{"contacts", "contact_identities", "events", "memory_chunks", "merges", "handoffs",
		"webhook_deliveries", "webchat_sessions", "routing_examples", "router_versions"} {
		if before[table] == 0 {
			t.Fatalf("setup: no %s row holds the marker", table)
		}
	}

	// Another account's key: 404, and nothing is touched.
	var e apiError
	if code := s.call(t, s.keyB, "DELETE", "/api/v1/contacts/"+person.ID, nil, &e); code != http.StatusNotFound {
		t.Fatalf("another account's DELETE: %d %+v", code, e)
	}
	if code := s.call(t, s.keyA, "GET", "/api/v1/contacts/"+person.ID, nil, nil); code != 200 || !s.blobExists(t, ownSHA) {
		t.Fatalf("another account's DELETE erased something: %d", code)
	}
	if code := s.call(t, s.keyA, "DELETE", "/api/v1/contacts/not-an-id", nil, nil); code != http.StatusNotFound {
		t.Fatalf("malformed id: %d", code)
	}

	code := s.call(t, s.keyA, "DELETE", "/api/v1/contacts/"+person.ID, nil, nil)
	if code != http.StatusNoContent {
		t.Fatalf("DELETE: %d, want 204", code)
	}
	for _, id := range ids {
		if code := s.call(t, s.keyA, "GET", "/api/v1/contacts/"+id.String(), nil, nil); code != http.StatusNotFound {
			t.Errorf("GET erased contact %s: %d, want 404", id, code)
		}
	}
	for _, path := range []string{"/api/v1/handoffs/" + card.ID.String(), "/api/v1/conversations/" + conv.String(), "/api/v1/media/" + ownFile.String()} {
		if code := s.call(t, s.keyA, "GET", path, nil, nil); code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, code)
		}
	}
	// Not one row anywhere holds what they said, typed or were called.
	if found := s.rowsMentioning(t, erasedMarker); len(found) > 0 {
		t.Errorf("rows still hold the person's data: %v", found)
	}
	// Nor names them, but the contact.erased delivery (River's jobs carry
	// bare ids of what they were about, and find nothing) and the audit
	// trail, which must show who edited, merged and erased whom: by opaque
	// id, with no field value or text (the marker check above holds for it).
	for _, id := range ids {
		found := s.rowsMentioning(t, id.String(), "river_job", "webhook_deliveries", "audit_log")
		if len(found) > 0 {
			t.Errorf("rows still name %s: %v", id, found)
		}
		if n := s.countRows(t, `SELECT count(*) FROM webhook_deliveries WHERE event <> 'contact.erased' AND payload::text LIKE '%' || $1 || '%'`, id.String()); n > 0 {
			t.Errorf("%d webhook deliveries still name %s", n, id)
		}
	}
	for table, n := range map[string]int{
		"handoffs":         s.countRows(t, `SELECT count(*) FROM handoffs WHERE account_id = $1`, s.acctA),
		"csat_requests":    s.countRows(t, `SELECT count(*) FROM csat_requests WHERE account_id = $1`, s.acctA),
		"conversations":    s.countRows(t, `SELECT count(*) FROM conversations WHERE account_id = $1`, s.acctA),
		"routing_examples": s.countRows(t, `SELECT count(*) FROM routing_examples WHERE account_id = $1`, s.acctA),
		"media_files":      s.countRows(t, `SELECT count(*) FROM media_files WHERE account_id = $1`, s.acctA),
		"webchat_sessions": s.countRows(t, `SELECT count(*) FROM webchat_sessions WHERE account_id = $1`, s.acctA),
		"merges":           s.countRows(t, `SELECT count(*) FROM merges WHERE account_id = $1`, s.acctA),
		"contacts":         s.countRows(t, `SELECT count(*) FROM contacts WHERE account_id = $1`, s.acctA),
	} {
		if n != 0 {
			t.Errorf("%s: %d rows left in the account", table, n)
		}
	}
	// The router version lost the example, and kept the rest.
	var left []map[string]any
	if err := s.pool.QueryRow(ctx, `SELECT examples FROM router_versions WHERE account_id = $1`, s.acctA).Scan(&left); err != nil || len(left) != 1 || left[0]["id"] != "builtin-1" {
		t.Errorf("router version examples: %v %v", left, err)
	}
	// contact.erased says who, and only that.
	var payload map[string]any
	if err := s.pool.QueryRow(ctx, `SELECT payload FROM webhook_deliveries WHERE account_id = $1 AND event = 'contact.erased'`, s.acctA).Scan(&payload); err != nil {
		t.Fatalf("contact.erased delivery: %v", err)
	}
	merged, _ := payload["merged_ids"].([]any)
	if payload["id"] != person.ID || len(payload) != 2 || len(merged) != 2 {
		t.Errorf("contact.erased payload %v", payload)
	}
	// The files: the person's own is gone from disk; the one someone else
	// sent too stays, and so does that person's record of it.
	if s.blobExists(t, ownSHA) {
		t.Error("the person's file is still in the blob store")
	}
	if !s.blobExists(t, sharedSHA) {
		t.Error("the photo another contact sent too was deleted")
	}
	if f, err := s.mediaFiles.Get(ctx, s.acctB, strangerFile); err != nil || f.SHA256 != sharedSHA {
		t.Errorf("the other account's file: %+v %v", f, err)
	}
	// The old webchat token resumes nothing.
	if code := wcPost(); code == 200 {
		t.Error("the erased visitor's session still posts")
	}

	if code := s.call(t, s.keyA, "DELETE", "/api/v1/contacts/"+person.ID, nil, &e); code != http.StatusNotFound {
		t.Fatalf("second DELETE: %d, want 404", code)
	}
	if code := s.call(t, s.keyA, "DELETE", "/api/v1/contacts/"+tgDup.ID, nil, nil); code != http.StatusNotFound {
		t.Fatalf("DELETE of an erased duplicate: %d, want 404", code)
	}

	// The same phone writing again is someone new: no stale identity,
	// name, fields or history.
	waMessage("wamid.erase2", "oi, primeira vez aqui")
	fresh := s.contactBy(t, "phone:+5511987657731")
	if slices.Contains(ids, mustUUID(t, fresh.ID)) {
		t.Fatalf("the phone resolved to the erased contact %s", fresh.ID)
	}
	if len(fresh.Identities) != 1 || fresh.Fields["observacao"] != nil {
		t.Errorf("fresh contact carries old data: %+v", fresh)
	}
	events := s.timeline(t, fresh.ID)
	for _, ev := range events {
		if strings.Contains(ev.Text, erasedMarker) || ev.Kind == "note" {
			t.Errorf("fresh contact's timeline has an old event: %+v", ev)
		}
	}
	if msgs := messagesOf(events); len(msgs) != 1 {
		t.Errorf("fresh contact has %d messages, want 1", len(msgs))
	}
}

// A server built without erasure says so instead of pretending the contact
// does not exist.
func TestEraseWithoutErasureIs501(t *testing.T) {
	s := newTestServer(t)
	c, err := s.store.CreateContact(context.Background(), s.acctA, memory.NewContact{Name: "Rui"})
	if err != nil {
		t.Fatal(err)
	}
	h := NewHandler(Deps{Auth: accounts.NewStore(s.pool), Memory: s.store, Registry: prometheus.NewRegistry()})
	req := httptest.NewRequest(http.MethodDelete, "/api/v1/contacts/"+c.Contact.ID.String(), nil)
	req.Header.Set("Authorization", "Bearer "+s.keyA)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusNotImplemented {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if _, err := s.store.Contact(context.Background(), s.acctA, c.Contact.ID); err != nil {
		t.Fatalf("the contact: %v", err)
	}
}
