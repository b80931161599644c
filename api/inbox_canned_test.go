package api

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/atende/atende/canned"
	"github.com/atende/atende/channels"
	"github.com/atende/atende/internal/browser"
)

// In the card's reply box "/" opens the canned responses offered on the
// reply's channel (Telegram here: not the WhatsApp one), "/bol" keeps those
// starting so, arrows and Enter pick one, and the box holds it filled for the
// contact, the variable it has no value for named under it; Esc closes the
// picker. The picked reply, completed, reaches Telegram rendered.
func TestInboxCannedResponsesInARealBrowser(t *testing.T) {
	s := newTestServer(t)
	s.startSendWorkers(t)
	tg := newTelegramAPI(t)
	card := inboxFixture(t, s, tg)
	for _, r := range []map[string]any{
		{"shortcut": "boleto", "title": "Segunda via do boleto", "text": "Olá, {{primeiro_nome}}! Segue a **segunda via** do boleto do pedido {{pedido}}."},
		{"shortcut": "bolsa", "title": "Bolsa de estudos", "text": "Oi {{nome}}, a bolsa é só para estudantes.", "channel": "telegram"},
		{"shortcut": "boleto-whats", "title": "Boleto (WhatsApp)", "text": "Boleto pelo WhatsApp", "channel": "whatsapp"},
		{"shortcut": "bom-dia", "title": "Saudação", "text": "Bom dia, {{nome}}!"},
	} {
		if code := s.call(t, s.keyA, "POST", "/api/v1/canned-responses", r, nil); code != http.StatusCreated {
			t.Fatalf("create %v: %d", r["shortcut"], code)
		}
	}
	ctx := browser.New(t)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err := chromedp.Do(ctx, loginAt(s, "/inbox/handoffs/"+card.ID.String(), "ana@acme.com", "senha-da-ana-1", chromedp.WaitVisible(chromedp.CSS("form.reply textarea")))...)
	if err != nil {
		t.Fatalf("log in and open the card: %v", err)
	}
	offered := func() []string {
		t.Helper()
		raw, err := chromedp.Run(ctx, chromedp.Poll[string](`(function(){var p=document.getElementById('canned-picker');
			if(p.hidden||!p.querySelector('li'))return false;
			return JSON.stringify(Array.prototype.map.call(p.querySelectorAll('li[data-shortcut]'),function(li){return li.getAttribute('data-shortcut')+(li.classList.contains('active')?'*':'')}))})()`,
			chromedp.WithPollingTimeout(5*time.Second)))
		if err != nil {
			t.Fatalf("the picker is open: %v", err)
		}
		var out []string
		_ = json.Unmarshal([]byte(raw), &out)
		return out
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("form.reply textarea"), "/")); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(offered(), ","); got != "boleto*,bolsa,bom-dia" {
		t.Fatalf(`"/" offers Telegram's and every channel's responses, not WhatsApp's: %s`, got)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("form.reply textarea"), "bol")); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(offered(), ","); got != "boleto*,bolsa" {
		t.Fatalf(`"/bol": %s`, got)
	}
	if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
		_ = os.WriteFile(filepath.Join(artifactsDir(t), "inbox-canned-picker.png"), png, 0o644)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.ArrowDown)); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(offered(), ","); got != "boleto,bolsa*" {
		t.Fatalf("arrow down: %s", got)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Escape)); err != nil {
		t.Fatal(err)
	}
	if hidden, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('canned-picker').hidden`)); !hidden {
		t.Fatal("Esc closes the picker")
	}
	// Typing on keeps it closed; erased and typed again, it reopens with the
	// first one active.
	err = chromedp.Do(ctx, chromedp.KeyEvent("e"))
	if hidden, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('canned-picker').hidden`)); err != nil || !hidden {
		t.Fatalf("closed by Esc, the picker stays closed: %v", err)
	}
	err = chromedp.Do(ctx,
		chromedp.KeyEvent(strings.Repeat(kb.Backspace, 5)),
		chromedp.SendKeys(chromedp.CSS("form.reply textarea"), "/bol"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(offered(), ","); got != "boleto*,bolsa" {
		t.Fatalf(`"/bol" again: %s`, got)
	}
	want := "Olá, Rui! Segue a **segunda via** do boleto do pedido {{pedido}}."
	if err := chromedp.Do(ctx, press(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Poll[string](`(function(){var v=document.querySelector('form.reply textarea').value;return v.charAt(0)==='/'?false:v})()`,
		chromedp.WithPollingTimeout(5*time.Second)))
	if err != nil || text != want {
		t.Fatalf("the box holds the response filled for Rui:\n got %q (%v)\nwant %q", text, err, want)
	}
	note, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(function(){var n=document.getElementById('canned-note');return n.hidden?'':n.textContent})()`))
	if note != "preencha: pedido" {
		t.Fatalf("the note under the box: %q", note)
	}
	selected, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(function(){var b=document.querySelector('form.reply textarea');return b.value.substring(b.selectionStart,b.selectionEnd)})()`))
	if selected != "{{pedido}}" {
		t.Errorf("the placeholder to fill is selected: %q", selected)
	}
	if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
		path := filepath.Join(artifactsDir(t), "inbox-canned.png")
		_ = os.WriteFile(path, png, 0o644)
		t.Logf("screenshot in %s", path)
	}
	// The attendant types the order number over the placeholder and sends:
	// Telegram gets it rendered in its dialect.
	if err := chromedp.Do(ctx, chromedp.KeyEvent("48213")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById('canned-note').hidden`, chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		t.Fatalf("the note goes once the order number is typed: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("form.reply button")), chromedp.WaitVisible(chromedp.CSS("p.flash"))); err != nil {
		t.Fatalf("send: %v", err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(tg.sent()) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if got := tg.sent(); len(got) != 1 || got[0] != "Olá, Rui! Segue a <b>segunda via</b> do boleto do pedido 48213." {
		t.Fatalf("the reply at Telegram: %q", got)
	}
}

// The picker's route needs the attendant's session and answers only the
// account's contacts; a channel it does not know is 400.
func TestInboxCannedRoute(t *testing.T) {
	s := newTestServer(t)
	tg := newTelegramAPI(t)
	card := inboxFixture(t, s, tg)
	ctx := context.Background()
	st := canned.NewStore(s.pool)
	if _, err := st.Create(ctx, s.acctA, canned.Input{Shortcut: "oi", Text: "Oi, {{primeiro_nome}}! Pedido {{pedido}}, {{xyz}}"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Create(ctx, s.acctA, canned.Input{Shortcut: "zap", Text: "só no WhatsApp", Channel: channels.KindWhatsApp}); err != nil {
		t.Fatal(err)
	}
	client := inboxLogin(t, s, "acme", "ana@acme.com", "senha-da-ana-1")
	path := "/inbox/contacts/" + card.ContactID.String() + "/canned?channel=" + tgChannel(t, s, card.ContactID).String()
	resp, err := client.Get(s.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Channel   string `json:"channel"`
		Responses []struct {
			Shortcut string   `json:"shortcut"`
			Text     string   `json:"text"`
			Missing  []string `json:"missing"`
			Unknown  []string `json:"unknown"`
		} `json:"responses"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	if out.Channel != "telegram" || len(out.Responses) != 1 || out.Responses[0].Text != "Oi, Rui! Pedido {{pedido}}, {{xyz}}" ||
		strings.Join(out.Responses[0].Missing, ",") != "pedido" || strings.Join(out.Responses[0].Unknown, ",") != "xyz" {
		t.Fatalf("the picker's list: %+v", out)
	}
	for p, want := range map[string]int{
		"/inbox/contacts/" + card.ContactID.String() + "/canned?channel=fax":                 http.StatusBadRequest,
		"/inbox/contacts/" + card.ContactID.String() + "/canned?channel=" + card.ID.String(): http.StatusNotFound,
		"/inbox/contacts/00000000-0000-0000-0000-000000000001/canned":                        http.StatusNotFound,
		"/inbox/contacts/nope/canned":                                                        http.StatusNotFound,
	} {
		resp, err := client.Get(s.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", p, resp.StatusCode, want)
		}
	}
	noSession := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noSession.Get(s.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("no session: %d", resp.StatusCode)
	}
}

// press types one key as a person does: a keyDown carrying its text, then
// keyUp, so a page that cancels the keydown (the picker's Enter) gets no
// character. chromedp.KeyEvent sends the character as a separate event,
// which the keydown's preventDefault cannot stop.
func press(key string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, r := range key {
			events := kb.Encode(r)
			text := ""
			for _, e := range events {
				if e.Type == kb.KeyChar {
					text = e.Text
				}
			}
			for _, e := range events {
				if e.Type == kb.KeyChar {
					continue
				}
				if e.Type == kb.KeyDown {
					e.Text, e.UnmodifiedText = text, text
				}
				if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, *e); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
