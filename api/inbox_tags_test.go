package api

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"

	"github.com/atende/atende/conversations"
	"github.com/atende/atende/handoff"
	"github.com/atende/atende/internal/browser"
	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/memory"
	"github.com/atende/atende/tags"
)

// In a real browser: Ana tags Rui "VIP" on his card and sees the chip; the
// queue shows the tag on his line and, filtered by it, only his card; she
// removes it with the chip's button. Both changes are hers on the timeline.
func TestInboxTagsInARealBrowser(t *testing.T) {
	s := newTestServer(t)
	tg := newTelegramAPI(t)
	card := inboxFixture(t, s, tg)
	ctx := context.Background()
	// Another customer's card, which the filter must hide.
	other, err := s.store.CreateContact(ctx, s.acctA, memory.NewContact{Name: "Bete Lins"})
	if err != nil {
		t.Fatal(err)
	}
	if err := database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		conv, err := conversations.NewStore(s.pool).TouchTx(ctx, tx, s.acctA, other.Contact.ID, "telegram", time.Now())
		if err != nil {
			return err
		}
		_, err = s.handoffs.Open(ctx, tx, handoff.Request{AccountID: s.acctA, ContactID: other.Contact.ID, ConversationID: conv.ID,
			Source: "customer", Reason: "frustration", Sector: "support", Like: "support", Team: "suporte", SLA: 30 * time.Minute, Channel: "telegram"})
		return err
	}); err != nil {
		t.Fatal(err)
	}

	b := browser.New(t)
	b, cancel := context.WithTimeout(b, 60*time.Second)
	defer cancel()
	text := func(sel string) string {
		got, _ := chromedp.Run(b, chromedp.Evaluate[string](`(document.querySelector(`+jsString(sel)+`)||{innerText:''}).innerText`))
		return got
	}
	shot := func(name string) {
		if png, err := chromedp.Run(b, chromedp.CaptureScreenshot()); err == nil {
			_ = os.WriteFile(filepath.Join(artifactsDir(t), name), png, 0o644)
		}
	}
	if err := chromedp.Do(b,
		chromedp.Navigate(s.URL+"/inbox/handoffs/"+card.ID.String()),
		chromedp.WaitVisible(chromedp.CSS("input[name=email]")),
		chromedp.SetValue(chromedp.CSS("input[name=empresa]"), "acme"),
		chromedp.SendKeys(chromedp.CSS("input[name=email]"), "ana@acme.com"),
		chromedp.SendKeys(chromedp.CSS("input[name=senha]"), "senha-da-ana-1"),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("form.add-tag input[name=tag]")),
	); err != nil {
		t.Fatalf("log in to the card: %v", err)
	}
	if got := text("#tags"); !strings.Contains(got, "nenhuma tag") {
		t.Fatalf("a card without tags says so: %q", got)
	}
	if err := chromedp.Do(b,
		chromedp.SendKeys(chromedp.CSS("form.add-tag input[name=tag]"), "VIP"),
		chromedp.Click(chromedp.CSS("form.add-tag button")),
		chromedp.WaitVisible(chromedp.CSS("#tags li.chip button.chip-remove")),
	); err != nil {
		t.Fatalf("add a tag: %v", err)
	}
	if got := text("#tags"); !strings.Contains(got, "VIP") || !strings.Contains(text("p.flash"), "Tag adicionada") {
		t.Fatalf("the chip: %q, flash %q", got, text("p.flash"))
	}
	if got := text("#timeline"); !strings.Contains(got, "tag adicionada: VIP (por Ana Souza)") {
		t.Fatalf("the timeline says who tagged: %q", got)
	}
	shot("inbox-tags-card.png")

	// The queue: the tag on Rui's line; filtered by it, only his card.
	if err := chromedp.Do(b,
		chromedp.Navigate(s.URL+"/inbox"),
		chromedp.WaitVisible(chromedp.CSS("ol.cards li.card")),
	); err != nil {
		t.Fatal(err)
	}
	lines, _ := chromedp.Run(b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('li.card .line1')).map(function(e){return e.innerText})`))
	if len(lines) != 2 {
		t.Fatalf("two cards before filtering: %q", lines)
	}
	for _, l := range lines {
		if strings.Contains(l, "Rui Costa") != strings.Contains(l, "VIP") {
			t.Fatalf("only Rui's line shows the tag: %q", lines)
		}
	}
	if err := chromedp.Do(b,
		chromedp.SetValue(chromedp.CSS("select[name=tag]"), "vip"),
		chromedp.Click(chromedp.CSS("form.filters button")),
	); err != nil {
		t.Fatalf("filter by tag: %v", err)
	}
	waitFor(t, b, `location.search.indexOf('tag=vip') >= 0 && document.readyState === 'complete' && !!document.querySelector('ol.cards li.card')`)
	loc, _ := chromedp.Run(b, chromedp.Evaluate[string](`location.search`))
	lines, _ = chromedp.Run(b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('li.card .line1')).map(function(e){return e.innerText})`))
	if !strings.Contains(loc, "tag=vip") || len(lines) != 1 || !strings.Contains(lines[0], "Rui Costa") {
		t.Fatalf("filtered by vip (%s): %q", loc, lines)
	}
	if sel, _ := chromedp.Run(b, chromedp.Evaluate[string](`document.querySelector('select[name=tag]').value`)); sel != "vip" {
		t.Fatalf("the filter shows what it filters by: %q", sel)
	}
	shot("inbox-tags-queue.png")

	// Remove it with the chip's button, back on the card.
	if err := chromedp.Do(b,
		chromedp.Click(chromedp.CSS("li.card a")),
		chromedp.WaitVisible(chromedp.CSS("#tags button.chip-remove")),
		chromedp.Click(chromedp.CSS("#tags button.chip-remove")),
		chromedp.WaitVisible(chromedp.CSS("p.flash")),
	); err != nil {
		t.Fatalf("remove the tag: %v", err)
	}
	if got := text("#tags"); !strings.Contains(got, "nenhuma tag") || !strings.Contains(text("p.flash"), "Tag removida") {
		t.Fatalf("after removing: %q, flash %q", got, text("p.flash"))
	}
	if err := chromedp.Do(b,
		chromedp.Navigate(s.URL+"/inbox?tag=vip"),
		chromedp.WaitVisible(chromedp.CSS("#queue")),
	); err != nil {
		t.Fatal(err)
	}
	if got := text("#queue"); !strings.Contains(got, "Nenhum cartão aqui") {
		t.Fatalf("no card carries vip any more: %q", got)
	}

	left, err := tags.NewStore(s.pool, s.store, nil).List(ctx, s.acctA, tags.Contact(card.ContactID))
	if err != nil || len(left) != 0 {
		t.Fatalf("tags left: %+v %v", left, err)
	}
	var events []string
	for _, e := range s.timeline(t, card.ContactID.String()) {
		if e.Kind == string(memory.EventTag) {
			events = append(events, e.Author+": "+e.Text)
		}
	}
	if strings.Join(events, "|") != "human: tag adicionada: VIP (por Ana Souza)|human: tag removida: VIP (por Ana Souza)" {
		t.Fatalf("the timeline: %q", events)
	}
}

// jsString quotes s for a JavaScript expression.
func jsString(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `'`, `\'`) + "'"
}

// waitFor evaluates cond until it holds, across the navigation a form's
// submission starts (chromedp's Poll gives up when the page goes away).
func waitFor(t *testing.T, b context.Context, cond string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if ok, err := chromedp.Run(b, chromedp.Evaluate[bool](cond)); err == nil && ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the page never got to %s", cond)
}
