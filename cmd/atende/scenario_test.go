package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"
)

// Every dev scenario passes with the offline engine, through the real
// webhook paths of a running server. ATENDE_EVAL_SCENARIOS names another
// directory of scenarios in the same format (a held-out set) to run instead.
func TestScenariosDev(t *testing.T) {
	dir := os.Getenv("ATENDE_EVAL_SCENARIOS")
	if dir == "" {
		dir = sharedEval(t, "scenarios-dev")
	}
	srv := startServer(t, "atd_scenarios_key_0123456789", 1)
	_, scenarios, err := splitEvalArgs([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = runScenarios(context.Background(), &out, srv.base, srv.key, scenarios, 20*time.Second, true)
	var rep ScenarioReport
	if jerr := json.Unmarshal(out.Bytes(), &rep); jerr != nil {
		t.Fatalf("%v: %s", jerr, out.String())
	}
	for _, s := range rep.Scenarios {
		if !s.Passed {
			t.Errorf("%s: %s", s.ID, s.Error)
			for _, o := range s.Outcomes {
				if !o.Passed {
					t.Errorf("   %s: %s", o.Expectation, o.Detail)
				}
			}
		}
	}
	if err != nil || rep.Failed > 0 || rep.Passed == 0 {
		t.Fatalf("%d passed, %d failed: %v", rep.Passed, rep.Failed, err)
	}
}
