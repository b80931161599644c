package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// splitEvalArgs separates routing sets (.jsonl) from scenarios (.json files
// and directories of them).
func splitEvalArgs(args []string) (routing, scenarios []string, err error) {
	for _, a := range args {
		info, err := os.Stat(a)
		if err != nil {
			return nil, nil, fmt.Errorf("eval: %w", err)
		}
		switch {
		case info.IsDir():
			matches, _ := filepath.Glob(filepath.Join(a, "*.json"))
			sort.Strings(matches)
			if len(matches) == 0 {
				return nil, nil, fmt.Errorf("eval: no scenario (*.json) in %s", a)
			}
			scenarios = append(scenarios, matches...)
		case strings.HasSuffix(a, ".jsonl"):
			routing = append(routing, a)
		case strings.HasSuffix(a, ".json"):
			scenarios = append(scenarios, a)
		default:
			return nil, nil, fmt.Errorf("eval: %s is neither a routing set (.jsonl) nor a scenario (.json)", a)
		}
	}
	return routing, scenarios, nil
}

// ScenarioReport is what `atende eval SCENARIOS -json` prints.
type ScenarioReport struct {
	Passed    int              `json:"passed"`
	Failed    int              `json:"failed"`
	Scenarios []ScenarioResult `json:"scenarios"`
}

// ErrScenariosFailed makes the command exit non-zero.
var ErrScenariosFailed = errors.New("scenarios failed")

// runScenarios plays each scenario against the server, one after the other
// (a step is sent only when the previous one was processed), and reports.
func runScenarios(ctx context.Context, w io.Writer, server, key string, paths []string, stepWait time.Duration, asJSON bool) error {
	if key == "" {
		return errors.New("eval: scenarios need -key (an API key of the account to run them in)")
	}
	c := &scenarioClient{base: strings.TrimRight(server, "/"), key: key, http: &http.Client{Timeout: 30 * time.Second}}
	if err := c.setup(ctx); err != nil {
		return fmt.Errorf("eval: set up channels on %s: %w", server, err)
	}
	defer c.close()
	var rep ScenarioReport
	for _, p := range paths {
		sc, err := readScenario(p)
		if err != nil {
			return err
		}
		res := c.run(ctx, sc, stepWait)
		if res.Error != "" {
			res.Passed = false
		}
		if res.Passed {
			rep.Passed++
		} else {
			rep.Failed++
		}
		rep.Scenarios = append(rep.Scenarios, res)
		if !asJSON {
			printScenario(w, res)
		}
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(w, "%d scenarios: %d passed, %d failed\n", len(rep.Scenarios), rep.Passed, rep.Failed)
	}
	if rep.Failed > 0 {
		return fmt.Errorf("%w: %d of %d", ErrScenariosFailed, rep.Failed, len(rep.Scenarios))
	}
	return nil
}

func printScenario(w io.Writer, r ScenarioResult) {
	mark := "PASS"
	if !r.Passed {
		mark = "FAIL"
	}
	fmt.Fprintf(w, "%s %s\n", mark, r.ID)
	if r.Error != "" {
		fmt.Fprintf(w, "     error: %s\n", r.Error)
	}
	for _, o := range r.Outcomes {
		if !o.Passed {
			fmt.Fprintf(w, "     ✗ %s: %s\n", o.Expectation, o.Detail)
		}
	}
}
