package channels

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestRenderInEachDialect(t *testing.T) {
	reply := "# Seu pedido\nO pedido **48213** sai *amanhã*. Acompanhe em [rastreio](https://loja.example/r/48213).\n- Troca grátis\n- Frete `PIX5`"
	tests := []struct {
		kind Kind
		want string
		html string
	}{
		{KindWhatsApp, "*Seu pedido*\nO pedido *48213* sai _amanhã_. Acompanhe em rastreio (https://loja.example/r/48213).\n• Troca grátis\n• Frete ```PIX5```", ""},
		{KindTelegram, "<b>Seu pedido</b>\nO pedido <b>48213</b> sai <i>amanhã</i>. Acompanhe em <a href=\"https://loja.example/r/48213\">rastreio</a>.\n• Troca grátis\n• Frete <code>PIX5</code>", ""},
		{KindInstagram, "Seu pedido\nO pedido 48213 sai amanhã. Acompanhe em rastreio: https://loja.example/r/48213.\n• Troca grátis\n• Frete PIX5", ""},
		{KindWebchat, reply, ""},
		{KindEmail, "Seu pedido\nO pedido 48213 sai amanhã. Acompanhe em rastreio: https://loja.example/r/48213.\n• Troca grátis\n• Frete PIX5",
			`<h3>Seu pedido</h3><p>O pedido <b>48213</b> sai <i>amanhã</i>. Acompanhe em <a href="https://loja.example/r/48213">rastreio</a>.</p><ul><li>Troca grátis</li><li>Frete <code>PIX5</code></li></ul>`},
	}
	for _, tt := range tests {
		got := Render(DefaultRules(tt.kind), reply)
		if len(got) != 1 || got[0].Text != tt.want || got[0].HTML != tt.html {
			t.Errorf("%s:\n got %q\n     %q\nwant %q\n     %q", tt.kind, got[0].Text, got[0].HTML, tt.want, tt.html)
		}
	}
	if got := Render(DefaultRules(KindTelegram), "1 < 2 & <script>")[0].Text; got != "1 &lt; 2 &amp; &lt;script&gt;" {
		t.Errorf("telegram HTML must be escaped: %q", got)
	}
	if got := Render(DefaultRules(KindWhatsApp), "campo product_interest e snake_case_key")[0].Text; got != "campo product_interest e snake_case_key" {
		t.Errorf("underscores inside words are not italics: %q", got)
	}
}

func TestSplitOnSentenceBoundaries(t *testing.T) {
	sentence := "Esta é uma frase de exemplo com algumas palavras. "
	text := strings.Repeat(sentence, 60) // ~3000 characters
	parts := Split(text, 1000)
	if len(parts) < 3 {
		t.Fatalf("want at least 3 parts, got %d", len(parts))
	}
	for i, p := range parts {
		if utf8.RuneCountInString(p) > 1000 {
			t.Fatalf("part %d has %d characters", i, utf8.RuneCountInString(p))
		}
		if !strings.HasSuffix(p, ".") {
			t.Fatalf("part %d does not end on a sentence: %q", i, p[len(p)-20:])
		}
	}
	if strings.Join(parts, " ") != strings.TrimSpace(text) {
		t.Fatal("splitting lost or changed text")
	}
	long := strings.Repeat("a", 2500)
	if parts := Split(long, 1000); len(parts) != 3 || parts[0] != strings.Repeat("a", 1000) {
		t.Fatalf("a word longer than the limit is cut hard: %d parts", len(parts))
	}
	if n := len(Render(DefaultRules(KindInstagram), text)); n < 3 {
		t.Fatalf("Instagram's 1000-character limit must split a long reply, got %d parts", n)
	}
}

func TestMessagingWindows(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	wa, ig, tg := DefaultRules(KindWhatsApp), DefaultRules(KindInstagram), DefaultRules(KindTelegram)
	tests := []struct {
		name     string
		rules    Rules
		last     time.Time
		human    bool
		freeForm bool
		template string
		tag      string
		closed   bool
	}{
		{"whatsapp inside 24h", wa, now.Add(-23 * time.Hour), false, true, "", "", false},
		{"whatsapp after 24h: template", wa, now.Add(-25 * time.Hour), true, false, "retomar_atendimento", "", false},
		{"whatsapp never wrote: template", wa, time.Time{}, false, false, "retomar_atendimento", "", false},
		{"instagram inside 24h", ig, now.Add(-2 * time.Hour), false, true, "", "", false},
		{"instagram human after 24h: tag", ig, now.Add(-3 * 24 * time.Hour), true, true, "", "HUMAN_AGENT", false},
		{"instagram bot after 24h: closed", ig, now.Add(-3 * 24 * time.Hour), false, false, "", "", true},
		{"instagram human after 7 days: closed", ig, now.Add(-8 * 24 * time.Hour), true, false, "", "", true},
		{"telegram has no window", tg, now.Add(-90 * 24 * time.Hour), false, true, "", "", false},
	}
	for _, tt := range tests {
		d, err := tt.rules.CheckWindow(tt.last, now, tt.human)
		if tt.closed != errors.Is(err, ErrWindowClosed) || d.FreeForm != tt.freeForm || d.Template != tt.template || d.Tag != tt.tag {
			t.Errorf("%s: %+v %v", tt.name, d, err)
		}
		if !tt.freeForm && d.Reason == "" {
			t.Errorf("%s: a refusal must say why", tt.name)
		}
	}
}

func TestRulesOverridesFromSettings(t *testing.T) {
	r, err := RulesFor(Channel{Kind: KindWhatsApp, Settings: map[string]string{
		"response_time": "10m", "max_length": "500", "template.greeting": "Oi! Aqui é a Loja.", "window_template": "reengajar"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.ResponseTime != 10*time.Minute || r.MaxLength != 500 || r.Templates[TemplateGreeting] != "Oi! Aqui é a Loja." || r.WindowTemplate != "reengajar" {
		t.Fatalf("overrides not applied: %+v", r)
	}
	if DefaultRules(KindWhatsApp).Templates[TemplateGreeting] == "Oi! Aqui é a Loja." {
		t.Fatal("an override leaked into the defaults")
	}
	if _, err := RulesFor(Channel{Kind: KindWhatsApp, Settings: map[string]string{"response_time": "soon"}}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("bad duration: %v", err)
	}
	for _, k := range []Kind{KindWhatsApp, KindEvolution, KindInstagram, KindTelegram, KindWebchat, KindEmail} {
		r := DefaultRules(k)
		for _, name := range []string{TemplateGreeting, TemplateHandoffNotice, TemplateAway, TemplateCSAT, TemplateWindowExpired} {
			if r.Templates[name] == "" {
				t.Errorf("%s lacks the %s template", k, name)
			}
		}
		if r.Tone == "" || r.ResponseTime == 0 || r.MaxLength == 0 {
			t.Errorf("%s rules incomplete: %+v", k, r)
		}
	}
}

func TestPreciseArrivalTime(t *testing.T) {
	sec := time.Date(2026, 3, 1, 10, 0, 5, 0, time.UTC)
	tests := []struct {
		name        string
		at, arrived time.Time
		want        time.Time
	}{
		{"same second: arrival is more precise", sec, sec.Add(400 * time.Millisecond), sec.Add(400 * time.Millisecond)},
		{"a retry minutes later keeps the platform's second, at its end", sec, sec.Add(5 * time.Minute), sec.Add(999 * time.Millisecond)},
		{"read 1.2 s late: the end of its second, after a reply made within it", sec, sec.Add(1200 * time.Millisecond), sec.Add(999 * time.Millisecond)},
		{"a platform clock ahead of ours is kept", sec, sec.Add(-300 * time.Millisecond), sec},
		{"sub-second platform time is kept", sec.Add(7 * time.Millisecond), sec.Add(300 * time.Millisecond), sec.Add(7 * time.Millisecond)},
		{"unknown time stays unknown", time.Time{}, sec, time.Time{}},
	}
	for _, tt := range tests {
		if got := precise(tt.at, tt.arrived); !got.Equal(tt.want) {
			t.Errorf("%s: %v", tt.name, got)
		}
	}
}
