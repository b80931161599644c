package tags

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		raw, name, key, bad string
	}{
		{raw: "vip", name: "vip", key: "vip"},
		{raw: "  VIP ", name: "VIP", key: "vip"},
		{raw: "Reclamação", name: "Reclamação", key: "reclamação"},
		{raw: "Reclama\u0063\u0327a\u0303o", name: "Reclamação", key: "reclamação"}, // decomposed: NFC makes it the same tag
		{raw: "pós   venda", name: "pós venda", key: "pós venda"},
		{raw: "cliente\u00a0antigo", name: "cliente antigo", key: "cliente antigo"},
		{raw: "👩\u200d💻 dev", name: "👩\u200d💻 dev", key: "👩\u200d💻 dev"},
		{raw: strings.Repeat("ç", 40), name: strings.Repeat("ç", 40), key: strings.Repeat("ç", 40)},
		{raw: "", bad: "empty"},
		{raw: " \t ", bad: "empty"},
		{raw: strings.Repeat("a", 41), bad: "at most 40"},
		{raw: "vi\x00p", bad: "control"},
		{raw: "linha\num", bad: "control"},
		{raw: "vip\u202e", bad: "invisible"},
		{raw: "a/b", bad: "/"},
		{raw: "\xff", bad: "UTF-8"},
	} {
		name, key, err := Normalize(tc.raw)
		if tc.bad != "" {
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.bad) {
				t.Errorf("%q: want an invalid tag saying %q, got %v", tc.raw, tc.bad, err)
			}
			continue
		}
		if err != nil || name != tc.name || key != tc.key {
			t.Errorf("%q: got %q %q %v, want %q %q", tc.raw, name, key, err, tc.name, tc.key)
		}
	}
}

func TestActorPhrase(t *testing.T) {
	for actor, want := range map[Actor]string{Attendant("Ana"): "por Ana", API: "pela API", AI: "pelo assistente", Attendant(" "): "pela equipe"} {
		if got := actor.phrase(); got != want {
			t.Errorf("%+v: %q, want %q", actor, got, want)
		}
	}
}
