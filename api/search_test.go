package api

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/atende/atende/internal/browser"
	"github.com/atende/atende/memory"
)

type searchJSON struct {
	Results []struct {
		Type    string `json:"type"`
		Contact struct {
			ID         string            `json:"id"`
			Name       string            `json:"name"`
			Identities []memory.Identity `json:"identities"`
		} `json:"contact"`
		Match       string           `json:"match"`
		Identity    *memory.Identity `json:"identity"`
		EventID     int64            `json:"event_id"`
		EventKind   string           `json:"event_kind"`
		At          *time.Time       `json:"at"`
		Channel     string           `json:"channel"`
		Author      string           `json:"author"`
		Snippet     string           `json:"snippet"`
		SnippetHTML string           `json:"snippet_html"`
		Link        string           `json:"link"`
	} `json:"results"`
	Next *string `json:"next_cursor"`
}

// searchFixtureAPI: in account A a contact with a phone and a CPF whose
// message says "promoção" (and carries markup), and the card's customer
// (Rui Costa, from inboxFixture); in account B, the same phone and words.
func searchFixtureAPI(t *testing.T, s *testServer) (marcia contactJSON) {
	t.Helper()
	if code := s.call(t, s.keyA, "POST", "/api/v1/contacts", map[string]any{"name": "Márcia Lima",
		"identities": []map[string]string{{"kind": "phone", "value": "(11) 98765-4321"}, {"kind": "cpf", "value": "529.982.247-25"}}}, &marcia); code != 201 {
		t.Fatalf("create contact: %d", code)
	}
	events := []map[string]any{
		{"occurred_at": time.Now().Add(-2 * time.Hour), "channel": "whatsapp", "direction": "in", "author": "contact", "text": "a promoção acabou?"},
		{"occurred_at": time.Now().Add(-time.Hour), "channel": "whatsapp", "direction": "in", "author": "contact", "text": "<img src=x onerror=alert(1)> a promoção & o frete grátis ainda valem?"},
	}
	if code := s.call(t, s.keyA, "POST", "/api/v1/contacts/"+marcia.ID+"/events:import", map[string]any{"events": events}, nil); code != 200 {
		t.Fatalf("import: %d", code)
	}
	var theirs contactJSON
	if code := s.call(t, s.keyB, "POST", "/api/v1/contacts", map[string]any{"name": "Márcia de Outra Empresa",
		"identities": []map[string]string{{"kind": "phone", "value": "+5511987654321"}}}, &theirs); code != 201 {
		t.Fatalf("create contact in B: %d", code)
	}
	if code := s.call(t, s.keyB, "POST", "/api/v1/contacts/"+theirs.ID+"/events:import", map[string]any{"events": []map[string]any{
		{"occurred_at": time.Now(), "channel": "whatsapp", "direction": "in", "author": "contact", "text": "promoção do fone carregar"}}}, nil); code != 200 {
		t.Fatal("import in B")
	}
	return marcia
}

func TestSearchAPI(t *testing.T) {
	s := newTestServer(t)
	card := inboxFixture(t, s, newTelegramAPI(t))
	marcia := searchFixtureAPI(t, s)
	search := func(key, q string, extra string) (int, searchJSON, apiError) {
		var out searchJSON
		var e apiError
		path := "/api/v1/search?q=" + url.QueryEscape(q) + extra
		code := s.call(t, key, "GET", path, nil, &out)
		if code != 200 {
			s.call(t, key, "GET", path, nil, &e)
		}
		return code, out, e
	}

	for _, q := range []string{"(11) 98765-4321", "11987654321", "+55 11 98765 4321", "52998224725", "529.982.247-25"} {
		code, out, _ := search(s.keyA, q, "")
		if code != 200 || len(out.Results) == 0 {
			t.Fatalf("%q: %d %+v", q, code, out)
		}
		r := out.Results[0]
		if r.Type != "contact" || r.Contact.ID != marcia.ID || r.Match != "identifier" || r.Identity == nil || len(r.Contact.Identities) != 2 {
			t.Fatalf("%q: first result %+v", q, r)
		}
		if r.Link != "" {
			t.Fatalf("Márcia has no card, so no link: %q", r.Link)
		}
	}

	code, out, _ := search(s.keyA, "PROMOCAO frete", "")
	if code != 200 || len(out.Results) != 1 {
		t.Fatalf("promocao: %d %+v", code, out)
	}
	r := out.Results[0]
	if r.Type != "event" || r.Contact.Name != "Márcia Lima" || r.EventID == 0 || r.EventKind != "message" || r.At == nil || r.Channel != "whatsapp" || r.Author != "contact" {
		t.Fatalf("the moment: %+v", r)
	}
	if !strings.Contains(r.SnippetHTML, "<mark>promoção</mark>") || strings.Contains(r.SnippetHTML, "<img") || !strings.Contains(r.SnippetHTML, "&amp;") ||
		!strings.Contains(r.Snippet, "promoção & o frete") {
		t.Fatalf("snippet: %q / %q", r.Snippet, r.SnippetHTML)
	}

	// the card's customer: the moment links to the card, at the message
	code, out, _ = search(s.keyA, "carregar", "")
	if code != 200 || len(out.Results) != 1 || out.Results[0].Contact.Name != "Rui Costa" {
		t.Fatalf("carregar: %d %+v", code, out)
	}
	if want := "/inbox/handoffs/" + card.ID.String() + "#ev-" + strconv.FormatInt(out.Results[0].EventID, 10); out.Results[0].Link != want {
		t.Fatalf("link %q, want %q", out.Results[0].Link, want)
	}
	code, out, _ = search(s.keyA, "rui", "")
	if code != 200 || len(out.Results) == 0 || out.Results[0].Type != "contact" || out.Results[0].Link != "/inbox/handoffs/"+card.ID.String() {
		t.Fatalf("rui: %d %+v", code, out)
	}

	// the other account sees its own Márcia only
	code, out, _ = search(s.keyB, "11987654321", "")
	if code != 200 || len(out.Results) != 1 || out.Results[0].Contact.Name != "Márcia de Outra Empresa" {
		t.Fatalf("account B: %d %+v", code, out)
	}
	code, out, _ = search(s.keyB, "promoção carregar", "")
	if code != 200 || len(out.Results) != 1 || out.Results[0].Contact.Name != "Márcia de Outra Empresa" {
		t.Fatalf("account B: %d %+v", code, out)
	}

	// pages: the newer of the two moments first
	code, out, _ = search(s.keyA, "promoção", "&limit=1")
	if code != 200 || len(out.Results) != 1 || out.Next == nil || !strings.Contains(out.Results[0].Snippet, "frete") {
		t.Fatalf("limit 1: %d %+v", code, out)
	}
	code, next, _ := search(s.keyA, "promoção", "&limit=1&cursor="+url.QueryEscape(*out.Next))
	if code != 200 || len(next.Results) != 1 || next.Next != nil || !strings.Contains(next.Results[0].Snippet, "acabou") {
		t.Fatalf("the second page: %d %+v", code, next)
	}

	for _, bad := range []struct{ q, extra, want string }{
		{"", "", "q is empty"},
		{"de a o", "", "stop words"},
		{"?!", "", "stop words"},
		{"promoção", "&limit=101", "limit"},
		{"promoção", "&cursor=xyz", "cursor"},
	} {
		code, _, e := search(s.keyA, bad.q, bad.extra)
		if code != 400 || e.Error.Code != "bad_request" || !strings.Contains(e.Error.Message, bad.want) {
			t.Fatalf("%q %s: %d %+v", bad.q, bad.extra, code, e)
		}
	}
	if code := s.call(t, "", "GET", "/api/v1/search?q=promocao", nil, nil); code != 401 {
		t.Fatalf("without a key: %d", code)
	}
}

// TestInboxSearchInARealBrowser: log in, type in the bar's search box, see
// the moment with its words marked (and the customer's markup as text),
// open it on the card at that message; a contact without a card is shown
// with their identifiers.
func TestInboxSearchInARealBrowser(t *testing.T) {
	s := newTestServer(t)
	card := inboxFixture(t, s, newTelegramAPI(t))
	searchFixtureAPI(t, s)
	ctx := browser.New(t)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err := chromedp.Do(ctx, loginAt(s, "/inbox", "ana@acme.com", "senha-da-ana-1", chromedp.WaitVisible(chromedp.CSS("ol.cards li.card")), chromedp.SendKeys(chromedp.CSS("header.top form.search-box input[name=q]"), "Carregar PEDIDO"+kb.Enter), chromedp.WaitVisible(chromedp.CSS("ol.results li.result")))...)
	if err != nil {
		t.Fatalf("log in and search: %v", err)
	}
	placeholder, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('header.top .search-box input').placeholder`))
	if placeholder != "Buscar cliente ou mensagem" {
		t.Fatalf("the nav's box: %q", placeholder)
	}
	first, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('li.result').innerText`))
	marks, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('li.result .snippet mark')).map(m => m.textContent)`))
	if !strings.Contains(first, "Rui Costa") || !strings.Contains(first, "meu fone parou de carregar, pedido 48213") || strings.Join(marks, ",") != "carregar,pedido" {
		t.Fatalf("the result: %q, marked %q", first, marks)
	}

	// a moment whose text carries markup shows it as text
	err = chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/inbox/search?q="+url.QueryEscape("promoção frete")),
		chromedp.WaitVisible(chromedp.CSS("ol.results li.result")),
	)
	if err != nil {
		t.Fatal(err)
	}
	injected, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('main img, main script').length`))
	snippet, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('li.result .snippet').innerHTML`))
	if injected != 0 || !strings.Contains(snippet, "<mark>promoção</mark>") || !strings.Contains(snippet, "&amp;") {
		t.Fatalf("snippet %q (%d elements injected)", snippet, injected)
	}
	if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
		_ = os.WriteFile(filepath.Join(artifactsDir(t), "inbox-search.png"), png, 0o644)
	}
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('li.result').innerText`))
	if !strings.Contains(text, "Márcia Lima") || !strings.Contains(text, "Sem cartão de atendimento.") {
		t.Fatalf("a contact without a card: %q", text)
	}

	// by phone as a person types it: the contact, with their identifiers
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("header.top form.search-box input[name=q]"), "(11) 98765-4321"+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("ol.results li.result.contact")),
	)
	if err != nil {
		t.Fatal(err)
	}
	text, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('li.result').innerText`))
	if !strings.Contains(text, "Márcia Lima") || !strings.Contains(text, "Telefone: +5511987654321") || !strings.Contains(text, "CPF: 52998224725") {
		t.Fatalf("the contact found by phone: %q", text)
	}

	// only stop words: said so, on the page
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("header.top form.search-box input[name=q]"), "de"+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("main.search p.error")),
	)
	if err != nil {
		t.Fatal(err)
	}

	// click through to the moment on the card
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("header.top form.search-box input[name=q]"), "carregar"+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("li.result.event a.open")),
		chromedp.Click(chromedp.CSS("li.result.event a.open")),
		chromedp.WaitVisible(chromedp.CSS("#timeline .events")),
	)
	if err != nil {
		t.Fatalf("open the moment: %v", err)
	}
	where, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname + location.hash`))
	target, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('.ev:target') || {innerText: ''}).innerText`))
	if !strings.HasPrefix(where, "/inbox/handoffs/"+card.ID.String()+"#ev-") || !strings.Contains(target, "meu fone parou de carregar") {
		t.Fatalf("at %q, the moment: %q", where, target)
	}
	if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
		path := filepath.Join(artifactsDir(t), "inbox-search-moment.png")
		_ = os.WriteFile(path, png, 0o644)
		t.Logf("screenshots in %s", filepath.Dir(path))
	}
}
