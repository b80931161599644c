package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/atende/atende/agents/offline"
	"github.com/atende/atende/prompts"
)

// sharedEval returns a path inside ../shared/eval, the dev sets checked out
// beside the repository (they are not part of it), and skips the test when
// that folder is absent, so a lone clone's make test passes without them.
func sharedEval(t *testing.T, name string) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "eval")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("../shared/eval not beside the checkout: skipped (looked at %s)", dir)
	}
	return filepath.Join(dir, name)
}

func evalSet(t *testing.T, name string) []offline.LabelledMessage {
	t.Helper()
	rows, err := readRoutingSet(sharedEval(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// The offline router's quality on the dev sets, cross-validated (no line is
// scored by a model that trained on it). These are regression floors.
func TestOfflineRoutingQuality(t *testing.T) {
	examples, err := prompts.SectorExamples()
	if err != nil || len(examples) < 100 {
		t.Fatalf("built-in examples: %d, %v", len(examples), err)
	}
	var builtin []offline.LabelledMessage
	for i, e := range examples {
		builtin = append(builtin, offline.LabelledMessage{ID: "b" + strconv.Itoa(i), Text: e.Text, Sector: e.Sector, WantsHuman: e.WantsHuman})
	}
	en := offline.CrossValidate(evalSet(t, "routing-dev.jsonl"), 5, offline.TrainOptions{}, builtin)
	if en.SectorMacroF1 < 0.90 || en.HandoffRecall < 0.95 || en.HandoffPrecision < 0.90 {
		t.Errorf("routing-dev: macro-F1 %.3f, handoff P %.3f R %.3f", en.SectorMacroF1, en.HandoffPrecision, en.HandoffRecall)
	}
	if en.SectorLines != 480 || en.NoTopicDeclined.Of != 120 {
		t.Errorf("routing-dev: %d sector lines and %d without a topic, want 480 and 120 (the protocol)", en.SectorLines, en.NoTopicDeclined.Of)
	}
	pt := offline.CrossValidate(evalSet(t, "routing-pt-dev.jsonl"), 5, offline.TrainOptions{}, builtin)
	if pt.SectorMacroF1 < 0.90 || pt.HandoffRecall < 0.95 || pt.HandoffPrecision < 0.90 {
		t.Errorf("routing-pt-dev: macro-F1 %.3f, handoff P %.3f R %.3f", pt.SectorMacroF1, pt.HandoffPrecision, pt.HandoffRecall)
	}
	if pt.SectorLines != 270 {
		t.Errorf("routing-pt-dev: %d sector lines, want 270", pt.SectorLines)
	}
}
