package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atende/atende/internal/fixtures"
	"github.com/atende/atende/internal/sign"
)

// silentPayloads are the real payloads that carry no customer content: the
// bot must not answer them (an attendant may still need to see them). Why,
// file by file:
var silentPayloads = map[string]string{
	"whatsapp_cloud/pywa_message__reaction.json":         "a reaction (😮) to an earlier message",
	"whatsapp_cloud/pywa_message__unreaction_empty.json": "a reaction removed (empty emoji)",
	"whatsapp_cloud/pywa_edited_message__image.json":     "an edit of a caption already sent",
	"whatsapp_cloud/pywa_outgoing_message__edit.json":    "an echo of the business's own edit (smb_message_echoes)",
	"whatsapp_cloud/pywa_message_status__failed.json":    "a delivery status of our own message (failed)",
	"whatsapp_cloud/pywa_message_status__played.json":    "a receipt: the customer played our voice note",
	"whatsapp_cloud/pywa_system__phone_number_change.json": "a system notice (number changed), " +
		"nothing the customer wrote",
	"evolution/evocrm_reaction.json":       "a reaction (👍) to an earlier message",
	"evolution/evocrm_revoke.json":         "the customer deleted a message (protocolMessage REVOKE)",
	"instagram/courier_ig_echo.json":       "an echo of the business's own message (is_echo)",
	"instagram/courier_ig_unsent.json":     "the customer unsent a message (is_deleted)",
	"instagram/courier_ig_like_heart.json": "a heart sticker: an acknowledgement, like a reaction",
	"telegram/tgdoc_edited_message.json":   "an edit of a message already sent (edited_message)",
}

// refusedPayloads are the published payloads whose sender is a placeholder
// no platform would send ("5678"): the README allows a clear refusal of
// that one message instead of a contact made of junk, so the case passes
// when the webhook answers 200 and names the message as skipped, why.
var refusedPayloads = map[string]string{
	"whatsapp_cloud/courier_wac_group_message.json": "no sender",
}

// realCase is one entry of cases.json.
type realCase struct {
	Platform string   `json:"platform"`
	File     string   `json:"file"`
	Needs    []string `json:"needs"`
	// Silent marks a non-content event (the own cases say so themselves;
	// the published ones are listed in silentPayloads).
	Silent bool `json:"silent,omitempty"`
}

// TestRealPayloads is the conformance test against the payloads other
// projects published (../shared/fixtures/real, see its README): each one is
// delivered unchanged (only signed) to a channel of its platform on a running
// server, in an account of its own; then the contacts and timelines an
// attendant reads through the REST API must show every string the case
// needs, and a payload without customer content (silentPayloads) must get no
// bot reply. It skips when the fixtures are not beside the checkout.
func TestRealPayloads(t *testing.T) {
	dir := sharedRealFixtures(t)
	runConformance(t, dir, readRealCases(t, dir, "cases.json"))
}

// TestOwnPayloadsConform is the same check over the repository's own
// payloads in the same shapes (internal/fixtures/testdata/channels,
// conformance.json: the strings an attendant needs, and which ones are
// non-content events the bot must not answer), so it runs in every clone.
func TestOwnPayloadsConform(t *testing.T) {
	dir := fixtures.Dir(t)
	runConformance(t, dir, readRealCases(t, dir, "conformance.json"))
}

// runConformance delivers every case through the webhook endpoint of one
// running server, each in an account of its own, and checks what the
// attendant sees.
func runConformance(t *testing.T, dir string, cases []realCase) {
	srv := startServer(t, "atd_real_payloads_key_0123456789", 1)
	sink, err := startSoakSink(&atomic.Int64{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sink.Close)
	var verdicts []string
	for i, c := range cases {
		t.Run(c.File, func(t *testing.T) {
			if c.Platform == "send_responses" {
				verdicts = append(verdicts, "SKIP "+c.File+": a platform's answer to a send, not a webhook")
				t.Skip("a platform's answer to a send, not a webhook")
			}
			v := checkRealCase(t, srv, sink, dir, i, c)
			verdicts = append(verdicts, fmt.Sprintf("%s %s (bot replies: %d)%s", v.outcome, c.File, v.replies, v.reason))
		})
	}
	t.Logf("payloads, case by case:\n%s", strings.Join(verdicts, "\n"))
}

// sharedRealFixtures is ../shared/fixtures/real beside the checkout, found
// as sharedEval finds ../shared/eval (ATENDE_REAL_FIXTURES names another
// directory, for a clone kept elsewhere); the test skips when it is absent.
func sharedRealFixtures(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "fixtures", "real")
	if env := os.Getenv("ATENDE_REAL_FIXTURES"); env != "" {
		dir = env
	}
	if _, err := os.Stat(filepath.Join(dir, "cases.json")); err != nil {
		t.Skipf("../shared/fixtures/real not beside the checkout: skipped (looked at %s)", dir)
	}
	return dir
}

func readRealCases(t *testing.T, dir, name string) []realCase {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	var cases []realCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return cases
}

// verdict is how one case went, for the summary.
type verdict struct {
	outcome, reason string
	replies         int // the bot's messages
}

// checkRealCase delivers one payload and checks what the attendant sees.
func checkRealCase(t *testing.T, srv *runningServer, sink *soakSink, dir string, i int, c realCase) verdict {
	raw, err := os.ReadFile(filepath.Join(dir, c.File))
	if err != nil {
		t.Fatal(err)
	}
	tenant := newTenant(t, srv, fmt.Sprintf("real-%02d", i))
	ch := createRealChannel(t, tenant, sink, c, raw)
	sentBefore := sinkSends(sink)
	status, answer := postWebhook(t, srv.base, signedDelivery(t, ch, raw, time.Now()))
	if status != http.StatusOK {
		return failCase(t, 0, "webhook answered HTTP %d: %s", status, answer)
	}
	if why, ok := refusedPayloads[c.File]; ok {
		if !strings.Contains(answer, `"skipped":[{`) || !strings.Contains(answer, why) {
			return failCase(t, 0, "want the message skipped (%s), webhook answered: %s", why, answer)
		}
		t.Logf("PASS (refused: %s)", why)
		return verdict{outcome: "PASS", reason: " (refused: " + why + ")"}
	}
	waitTurnsSettled(t, srv)
	seen := readAttendantView(t, tenant)
	sends := sinkSends(sink) - sentBefore
	var reasons []string
	if missing := seen.missing(c.Needs); len(missing) > 0 {
		reasons = append(reasons, fmt.Sprintf("missing %q; webhook answered: %s", missing, answer))
	}
	replies := seen.botReplies()
	why, silent := silentPayloads[c.File]
	if c.Silent {
		why, silent = "a non-content event", true
	}
	if silent && (len(replies) > 0 || sends > 0) {
		reasons = append(reasons, fmt.Sprintf("the bot replied %q (%d sends to the platform) to %s", replies, sends, why))
	}
	if len(reasons) > 0 {
		return failCase(t, len(replies), "%s; the timeline showed: %s", strings.Join(reasons, "; AND "), seen.summary())
	}
	t.Logf("PASS (bot replies: %d)", len(replies))
	return verdict{outcome: "PASS", replies: len(replies)}
}

func failCase(t *testing.T, replies int, format string, args ...any) verdict {
	t.Helper()
	reason := fmt.Sprintf(format, args...)
	t.Errorf("FAIL: %s", reason)
	return verdict{outcome: "FAIL", reason: ": " + reason, replies: replies}
}

// newTenant creates an account of its own for a case, as `atende accounts
// create` does, so no case sees another's contacts (many payloads share a
// customer and a message id).
func newTenant(t *testing.T, srv *runningServer, slug string) *runningServer {
	t.Helper()
	var out bytes.Buffer
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := runAccounts(context.Background(), log, []string{"create", "-slug", slug, "-name", "Loja Real"}, &out); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`api key: (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no key printed: %s", out.String())
	}
	return &runningServer{base: srv.base, key: m[1], dbURL: srv.dbURL, secretKey: srv.secretKey}
}

// realChannel is a channel a case's payload is delivered to.
type realChannel struct {
	ID, Kind, Provider, Secret string
}

// channelKind is the Atende channel kind of a cases.json platform.
func channelKind(platform string) string {
	if platform == "whatsapp_cloud" {
		return "whatsapp"
	}
	return platform
}

// emailProvider tells which parse service an e-mail fixture came from.
func emailProvider(file string) string {
	for _, p := range []string{"mailgun", "sendgrid"} {
		if strings.Contains(file, p) {
			return p
		}
	}
	return "postmark"
}

// createRealChannel creates, through the API, a channel of the case's
// platform with a fresh secret, sending to the sink, and named by the ids
// the payload addresses (phone number id, Instagram account, instance) as a
// real channel would be.
func createRealChannel(t *testing.T, tenant *runningServer, sink *soakSink, c realCase, payload []byte) realChannel {
	t.Helper()
	ch := realChannel{Kind: channelKind(c.Platform), Secret: "real-" + randomHex(12)}
	ids := addressedIDsOf(payload)
	base := sink.URL + "/" + ch.Kind
	var settings, secrets map[string]string
	switch ch.Kind {
	case "whatsapp":
		settings = map[string]string{"phone_number_id": or(ids.PhoneNumberID, "real"), "base_url": base}
		secrets = map[string]string{"app_secret": ch.Secret, "verify_token": "v", "access_token": "t"}
	case "instagram":
		settings = map[string]string{"instagram_id": or(ids.EntryID, "real"), "base_url": base}
		secrets = map[string]string{"app_secret": ch.Secret, "verify_token": "v", "access_token": "t"}
	case "telegram":
		settings = map[string]string{"base_url": base}
		secrets = map[string]string{"bot_token": "1:real", "secret_token": ch.Secret}
	case "evolution":
		settings = map[string]string{"instance": or(ids.Instance, "real"), "base_url": base}
		secrets = map[string]string{"apikey": ch.Secret}
	case "chatwoot":
		settings = map[string]string{"base_url": base, "account_id": "1"}
		secrets = map[string]string{"webhook_secret": ch.Secret, "api_access_token": "t"}
	case "email":
		ch.Provider = emailProvider(c.File)
		settings = map[string]string{"provider": ch.Provider, "address": "atendimento@real.atende.dev",
			"smtp_host": sink.SMTPHost, "smtp_port": sink.SMTPPort}
		secrets = map[string]string{"inbound_token": ch.Secret, "signing_key": ch.Secret}
	default:
		t.Fatalf("platform %q has no channel kind", c.Platform)
	}
	var created struct{ ID string }
	if code := tenant.call("POST", "/api/v1/channels", map[string]any{"kind": ch.Kind, "name": "real " + ch.Kind,
		"settings": settings, "secrets": secrets}, &created); code != http.StatusCreated {
		t.Fatalf("create the %s channel: HTTP %d", ch.Kind, code)
	}
	ch.ID = created.ID
	return ch
}

func or(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// addressedIDs are the business-side ids a payload is addressed to.
type addressedIDs struct {
	PhoneNumberID, EntryID, Instance string
}

func addressedIDsOf(payload []byte) addressedIDs {
	var env struct {
		Instance string `json:"instance"`
		Entry    []struct {
			ID      string `json:"id"`
			Changes []struct {
				Value struct {
					Metadata struct {
						PhoneNumberID string `json:"phone_number_id"`
					} `json:"metadata"`
				} `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	_ = json.Unmarshal(payload, &env) // e-mail forms are not JSON: no ids
	ids := addressedIDs{Instance: env.Instance}
	if len(env.Entry) > 0 {
		ids.EntryID = env.Entry[0].ID
		if len(env.Entry[0].Changes) > 0 {
			ids.PhoneNumberID = env.Entry[0].Changes[0].Value.Metadata.PhoneNumberID
		}
	}
	return ids
}

// signedDelivery is the payload as its platform would post it to ch: the
// bytes unchanged, signed as the platform signs (Meta's X-Hub-Signature-256,
// Telegram's secret token, Evolution's apikey, Chatwoot's signature, the
// e-mail inbound token or Mailgun's signature fields).
func signedDelivery(t *testing.T, ch realChannel, payload []byte, now time.Time) webhook {
	t.Helper()
	wh := webhook{Path: "/webhooks/" + ch.Kind + "/" + ch.ID, Body: payload,
		Headers: map[string]string{"Content-Type": "application/json"}}
	switch ch.Kind {
	case "whatsapp", "instagram":
		wh.Headers["X-Hub-Signature-256"] = metaSignature(ch.Secret, payload)
	case "telegram":
		wh.Headers["X-Telegram-Bot-Api-Secret-Token"] = ch.Secret
	case "evolution":
		wh.Headers["apikey"] = ch.Secret
	case "chatwoot":
		ts := strconv.FormatInt(now.Unix(), 10)
		wh.Headers["X-Chatwoot-Timestamp"] = ts
		wh.Headers["X-Chatwoot-Signature"] = sign.Signature(ch.Secret, ts, payload)
	case "email":
		wh.Path += "?token=" + ch.Secret
		switch ch.Provider {
		case "sendgrid":
			wh.Headers["Content-Type"] = "multipart/form-data; boundary=" + formBoundary(t, payload)
		case "mailgun":
			contentType, body := splitCapturedRequest(t, payload)
			wh.Headers["Content-Type"], wh.Body = contentType, resignMailgun(body, ch.Secret, now)
		}
	}
	return wh
}

// formBoundary is the boundary a bare multipart body opens with.
func formBoundary(t *testing.T, body []byte) string {
	t.Helper()
	first, _, _ := strings.Cut(strings.TrimLeft(string(body), "\r\n"), "\n")
	if !strings.HasPrefix(first, "--") {
		t.Fatalf("the form does not open with a boundary: %q", first)
	}
	return strings.TrimSpace(strings.TrimPrefix(first, "--"))
}

// splitCapturedRequest is the Content-Type and body of a raw HTTP capture.
func splitCapturedRequest(t *testing.T, capture []byte) (contentType string, body []byte) {
	t.Helper()
	head, body, ok := bytes.Cut(capture, []byte("\r\n\r\n"))
	if !ok {
		t.Fatal("the capture has no blank line between headers and body")
	}
	for _, line := range strings.Split(string(head), "\r\n") {
		if name, value, ok := strings.Cut(line, ":"); ok && strings.EqualFold(name, "Content-Type") {
			return strings.TrimSpace(value), body
		}
	}
	t.Fatal("the capture has no Content-Type")
	return "", nil
}

// resignMailgun stamps a Mailgun form with now and signs its token with key,
// as Mailgun signs timestamp+token: the one change signing needs.
func resignMailgun(body []byte, key string, now time.Time) []byte {
	ts := strconv.FormatInt(now.Unix(), 10)
	body = setFormValue(body, "timestamp", ts)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(ts + formValue(body, "token")))
	return setFormValue(body, "signature", hex.EncodeToString(mac.Sum(nil)))
}

func formFieldPattern(name string) *regexp.Regexp {
	return regexp.MustCompile(`(name="` + regexp.QuoteMeta(name) + `"\r?\n\r?\n)([^\r\n]*)`)
}

func formValue(body []byte, name string) string {
	if m := formFieldPattern(name).FindSubmatch(body); m != nil {
		return string(m[2])
	}
	return ""
}

func setFormValue(body []byte, name, value string) []byte {
	return formFieldPattern(name).ReplaceAll(body, []byte("${1}"+value))
}

// postWebhook posts a delivery once and returns the status and the answer.
func postWebhook(t *testing.T, base string, wh webhook) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+wh.Path, bytes.NewReader(wh.Body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range wh.Headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("webhook: %v", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, strings.TrimSpace(string(answer))
}

// sinkSends counts what reached the platforms' send APIs and the SMTP sink.
func sinkSends(sink *soakSink) int {
	replies, unknown := sink.snapshot()
	n := unknown
	for _, rs := range replies {
		n += len(rs)
	}
	return n
}

// attendantView is what an attendant reads of an account through the REST
// API: its contacts and their timeline events, as JSON.
type attendantView struct {
	contacts []json.RawMessage
	events   []json.RawMessage
}

// timelineEvent is the part of an event the checks read by name.
type timelineEvent struct {
	Kind, Author, Text string
	Media              []struct{ Type, MIME, URL, Caption string }
}

func readAttendantView(t *testing.T, tenant *runningServer) attendantView {
	t.Helper()
	var v attendantView
	var list struct{ Contacts []json.RawMessage }
	if code := tenant.call("GET", "/api/v1/contacts?limit=100", nil, &list); code != http.StatusOK {
		t.Fatalf("list contacts: HTTP %d", code)
	}
	for _, raw := range list.Contacts {
		var c struct{ ID string }
		_ = json.Unmarshal(raw, &c)
		var page struct{ Events []json.RawMessage }
		if code := tenant.call("GET", "/api/v1/contacts/"+c.ID+"/timeline?limit=500", nil, &page); code != http.StatusOK {
			t.Fatalf("timeline of %s: HTTP %d", c.ID, code)
		}
		v.contacts = append(v.contacts, raw)
		v.events = append(v.events, page.Events...)
	}
	return v
}

func decodeEvent(raw json.RawMessage) timelineEvent {
	var e timelineEvent
	_ = json.Unmarshal(raw, &e)
	return e
}

// missing are the needs found nowhere in the contacts and the customer's
// side of the timelines (text, media, payload), case-insensitively. The
// bot's own messages are left out: a need must come from the delivery.
func (v attendantView) missing(needs []string) []string {
	var seen []string
	for _, raw := range v.contacts {
		seen = append(seen, jsonStrings(raw)...)
	}
	for _, raw := range v.events {
		if !isBotMessage(decodeEvent(raw)) {
			seen = append(seen, jsonStrings(raw)...)
		}
	}
	haystack := strings.ToLower(strings.Join(seen, "\n"))
	var out []string
	for _, n := range needs {
		if !strings.Contains(haystack, strings.ToLower(n)) {
			out = append(out, n)
		}
	}
	return out
}

func isBotMessage(e timelineEvent) bool { return e.Kind == "message" && e.Author == "ai" }

// botReplies are the texts of the bot's messages.
func (v attendantView) botReplies() []string {
	var out []string
	for _, raw := range v.events {
		if e := decodeEvent(raw); isBotMessage(e) {
			out = append(out, e.Text)
		}
	}
	return out
}

// summary tells in one line what the timelines hold: kind/author, text, media.
func (v attendantView) summary() string {
	if len(v.contacts) == 0 {
		return "no contact"
	}
	var parts []string
	for _, raw := range v.events {
		e := decodeEvent(raw)
		s := e.Kind + "/" + e.Author
		if e.Text != "" {
			s += " " + strconv.Quote(clip(e.Text, 80))
		}
		for _, m := range e.Media {
			s += fmt.Sprintf(" [%s %s %s %s]", m.Type, m.MIME, m.URL, clip(m.Caption, 40))
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return fmt.Sprintf("%d contact(s), no event", len(v.contacts))
	}
	return strings.Join(parts, " | ")
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// jsonStrings are every string and number of a JSON document, numbers in
// their exact text (an id may be a big number).
func jsonStrings(raw json.RawMessage) []string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if dec.Decode(&doc) != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case string:
			out = append(out, x)
		case json.Number:
			out = append(out, x.String())
		case []any:
			for _, y := range x {
				walk(y)
			}
		case map[string]any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(doc)
	return out
}
