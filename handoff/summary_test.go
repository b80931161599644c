package handoff

import "testing"

// The need is the sentence that states the problem, not the first long
// one: a greeting with a question about instalments is not the need of a
// billing complaint (issue 11).
func TestTheNeedIsWhatStatesTheProblem(t *testing.T) {
	said := []string{
		"Oi, bom dia! Vocês parcelam em quantas vezes?",
		"fui cobrado duas vezes no cartão pelo pedido 48213 e ninguém resolve",
		"quero falar com um atendente",
	}
	if got := statedNeed(said); got != "fui cobrado duas vezes no cartão pelo pedido 48213 e ninguém resolve" {
		t.Fatalf("need: %q", got)
	}
	repeated := []string{"já mandei o comprovante", "já mandei o comprovante!!", "o app não abre desde ontem", "já mandei o comprovante"}
	got := keySentences(repeated, 3)
	if len(got) != 2 || got[0] != "já mandei o comprovante" || got[1] != "o app não abre desde ontem" {
		t.Fatalf("key sentences drop repeats and keep the order: %q", got)
	}
	if got := statedNeed([]string{"oi", "bom dia", "atendente por favor"}); got != "" {
		t.Fatalf("nothing of substance: %q", got)
	}
}
