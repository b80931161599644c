package offline

import (
	"math/rand/v2"
	"strings"
	"testing"
)

const sampleCorpus = `
# a comment
@global
pedido = #4821 | PED-77

@business pet: Pet shop
produto = a ração de filhote | o arranhador
agenda = o banho e tosa

@business clinica: Clínica
agenda = a consulta | a limpeza

@templates sales x4
quanto custa {produto}?
{quero|queria} marcar {agenda}{ pra amanhã|}
o preço d{produto} mudou?
@templates support human x2
quero falar com {um atendente|alguém} sobre o pedido {pedido}
`

func TestCorpusExpandsTemplatesBySlotsAndBusinesses(t *testing.T) {
	c, err := ParseCorpus(map[string]string{"sample.pt.txt": sampleCorpus})
	if err != nil {
		t.Fatal(err)
	}
	got := c.Generate()
	again := c.Generate()
	if len(got) != len(again) {
		t.Fatalf("not deterministic: %d then %d sentences", len(got), len(again))
	}
	bySector := map[string]int{}
	for i, m := range got {
		if m.Text != again[i].Text {
			t.Fatalf("not deterministic: %q then %q", m.Text, again[i].Text)
		}
		bySector[m.Sector]++
		folded := strings.ToLower(m.Text)
		if strings.Contains(folded, "{") || strings.Contains(folded, "}") {
			t.Errorf("unexpanded template: %q", m.Text)
		}
		if m.Sector == "support" && !m.WantsHuman {
			t.Errorf("a human section's sentence not marked: %q", m.Text)
		}
		// a slot only the pet shop has never comes from the clinic, and the
		// contraction "d" + "a ração" reads "da ração"
		if strings.Contains(folded, "preço") || strings.Contains(folded, "preco") {
			if !(strings.Contains(folded, "da racao") || strings.Contains(folded, "da ração") || strings.Contains(folded, "do arranhador")) {
				t.Errorf("contraction not made: %q", m.Text)
			}
		}
	}
	if bySector["sales"] < 6 || bySector["support"] < 1 {
		t.Fatalf("too few sentences: %v", bySector)
	}
}

func TestCorpusErrorsNameTheLine(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"unclosed", "@templates sales\nquanto {custa|sai?\n", "x.pt.txt:2"},
		{"unknown slot", "@global\ncidade = Recife\n@templates sales\nentregam em {cidadde}?\n", "{cidadde}"},
		{"bad sector", "@templates vendas\noi\n", "x.pt.txt:1"},
		{"orphan line", "quanto custa?\n", "outside any"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCorpus(map[string]string{"x.pt.txt": tc.text})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

// The noise changes how a sentence is written, never what it asks: the
// words that carry the request survive it (folded, possibly abbreviated).
func TestNoiseKeepsTheRequest(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	clean := "Você poderia me enviar a segunda via do boleto de março, por favor?"
	changed := 0
	for range 200 {
		s := addNoise("pt", clean, false, rng)
		if s != clean {
			changed++
		}
		f := strings.ToLower(s)
		// a typo may touch one of the words, never both
		if !strings.Contains(f, "boleto") && !strings.Contains(f, "mar") {
			t.Errorf("request lost: %q", s)
		}
	}
	if changed < 150 {
		t.Fatalf("noise changed only %d of 200 sentences", changed)
	}
}
