package memory

import "testing"

// Every field Atende knows is in the one registry, once, with a label; the
// ones the agent asks for have a question.
func TestTheRegistryNamesEveryKnownField(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Registry() {
		if seen[f.Key] || f.Label == "" {
			t.Errorf("%q: twice or without a label", f.Key)
		}
		seen[f.Key] = true
	}
	for _, k := range append(knownFields, FieldOrderNumber, FieldClaimedEmail, FieldClaimedPhone, FieldClaimedCPF) {
		if !seen[k] {
			t.Errorf("%q is not in the registry", k)
		}
	}
	for _, k := range []string{FieldName, FieldEmail, FieldPhone, FieldCPF, FieldOrderNumber, FieldProductInterest} {
		if f, _ := Field(k); f.Question == "" {
			t.Errorf("%q has no question", k)
		}
	}
}
