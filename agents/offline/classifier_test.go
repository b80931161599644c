package offline

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestClassifierLearnsSectors(t *testing.T) {
	train := []Example{
		{"quero comprar o plano anual", "sales"}, {"quanto custa a assinatura?", "sales"}, {"tem desconto no pix?", "sales"},
		{"o app não abre", "support"}, {"não consigo fazer login", "support"}, {"a catraca não libera minha entrada", "support"},
		{"meu boleto venceu", "billing"}, {"fui cobrado duas vezes", "billing"}, {"preciso da segunda via da fatura", "billing"},
	}
	c := Train(train, TrainOptions{})
	for text, want := range map[string]string{
		"qual o preço do plano?":           "sales",
		"o aplicativo não abre no celular": "support",
		"cobrança em dobro no cartão":      "billing",
		"me manda a segunda via do boleto": "billing",
	} {
		if got := c.Predict(text); got.Label != want {
			t.Errorf("%q -> %s (%.2f), want %s", text, got.Label, got.Confidence, want)
		}
	}
	var sum float64
	for _, p := range c.Predict("oi").Probability {
		sum += p
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Fatalf("probabilities sum to %f", sum)
	}
	again := Train(train, TrainOptions{})
	if c.Predict("tem desconto?").Confidence != again.Predict("tem desconto?").Confidence {
		t.Fatal("training must be deterministic")
	}
}

// With labels that no other line predicts, a model scored on its own training
// lines would look perfect; cross-validation must score near chance.
func TestCrossValidationNeverScoresTrainedLines(t *testing.T) {
	var rows []LabelledMessage
	labels := []string{"a", "b", "c", "d"}
	rng := rand.New(rand.NewPCG(7, 7))
	word := func() string {
		b := make([]byte, 8)
		for i := range b {
			b[i] = byte('a' + rng.IntN(26))
		}
		return string(b)
	}
	for i := range 200 {
		rows = append(rows, LabelledMessage{ID: fmt.Sprint(i), Text: word() + " " + word(), Sector: labels[rng.IntN(4)]})
	}
	router := TrainRouter(rows, TrainOptions{})
	onTraining := 0
	for _, r := range rows {
		if router.Route(r.Text).Sector.Label == r.Sector {
			onTraining++
		}
	}
	if onTraining < 190 {
		t.Fatalf("the model should memorise its training lines: %d/200", onTraining)
	}
	if rep := CrossValidate(rows, 5, TrainOptions{}, nil); rep.SectorAccuracy > 0.45 || rep.Examples != 200 {
		t.Fatalf("cross-validated accuracy %.2f on unpredictable labels: lines leaked into training", rep.SectorAccuracy)
	}
}

func TestScore(t *testing.T) {
	rep := Score([]string{"a", "a", "b", "b"}, []string{"a", "b", "b", "b"})
	if rep.SectorAccuracy != 0.75 || rep.Labels["a"].Recall != 0.5 || rep.Labels["b"].Precision != 2.0/3 || rep.Confusion["a"]["b"] != 1 {
		t.Fatalf("%+v", rep)
	}
	wantMacro := (2*1*0.5/1.5 + 2*(2.0/3)*1/(2.0/3+1)) / 2
	if math.Abs(rep.SectorMacroF1-wantMacro) > 1e-9 {
		t.Fatalf("macro-F1 %f, want %f", rep.SectorMacroF1, wantMacro)
	}
}

// A built-in example that is the same line as a scored one is not trained on
// while that line is scored.
func TestNearCopiesOfScoredLinesAreNotTrainedOn(t *testing.T) {
	examples := []LabelledMessage{{Text: "Bom dia!", Sector: "none"}, {Text: "quero a segunda via do boleto", Sector: "billing"}, {Text: "qual o preço?", Sector: "sales"}}
	scored := []LabelledMessage{{Text: "bom dia"}, {Text: "quero a 2 via do boleto de março por favor"}}
	got := withoutNearCopies(examples, scored)
	if len(got) != 2 || got[0].Text != "quero a segunda via do boleto" || got[1].Text != "qual o preço?" {
		t.Fatalf("kept %+v", got)
	}
}

func TestScoreFollowsTheProtocol(t *testing.T) {
	// Lines with no topic are left out; predicting no sector for a topical
	// line is wrong and counts for no sector's precision.
	rep := Score([]string{"sales", "sales", "billing", "none", "none"}, []string{"sales", "none", "billing", "none", "sales"})
	if rep.SectorLines != 3 || rep.SectorAccuracy != 2.0/3 || rep.Labels["sales"].Recall != 0.5 || rep.Labels["sales"].Precision != 1 {
		t.Fatalf("%+v", rep)
	}
	if rep.NoTopicDeclined.Count != 1 || rep.NoTopicDeclined.Of != 2 || rep.Confusion["sales"]["none"] != 1 {
		t.Fatalf("%+v", rep)
	}
}

// The shipped score never trains on the set it scores: a sector only the
// set knows is never predicted, while cross-validation learns it.
func TestShippedScoresWithoutTrainingOnTheSet(t *testing.T) {
	shipped := []LabelledMessage{
		{ID: "s1", Text: "quero comprar o plano anual", Sector: "sales"}, {ID: "s2", Text: "quanto custa a assinatura?", Sector: "sales"},
		{ID: "s3", Text: "o app não abre", Sector: "support"}, {ID: "s4", Text: "não consigo fazer login", Sector: "support"},
	}
	var rows []LabelledMessage
	for i := range 20 {
		rows = append(rows, LabelledMessage{ID: fmt.Sprintf("r%d", i), Text: fmt.Sprintf("minha matrícula número %d trancada na secretaria", i), Sector: "secretaria"})
	}
	rep := Shipped(rows, TrainOptions{}, shipped)
	if rep.Examples != len(rows) || rep.Folds != 0 {
		t.Fatalf("every line scored once, no folds: %+v", rep)
	}
	if got := rep.Labels["secretaria"]; got.Recall != 0 {
		t.Fatalf("the shipped router learned a sector from the scored set: %+v", got)
	}
	if cv := CrossValidate(rows, 5, TrainOptions{}, shipped); cv.Labels["secretaria"].Recall == 0 {
		t.Fatalf("cross-validation learns it: %+v", cv.Labels["secretaria"])
	}
}
