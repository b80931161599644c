package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/atende/atende/agents"
	"github.com/atende/atende/agents/offline"
)

// evalCmd scores the offline router on routing sets with k-fold
// cross-validation: no line is scored by a model that trained on it.
func evalCmd(ctx context.Context, _ *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	folds := fs.Int("folds", 5, "cross-validation folds")
	asJSON := fs.Bool("json", false, "print one JSON object (per file) for scripts and CI")
	builtin := fs.Bool("builtin", true, "also train on the built-in examples of prompts/ (never scored)")
	shipped := fs.Bool("shipped", false, "score the router exactly as shipped: trained on the built-in examples only, never on FILE, every line scored")
	server := fs.String("server", envOr("ATENDE_EVAL_SERVER", "http://"+envOr("ATENDE_ADDR", "127.0.0.1:8080")), "scenarios: the running Atende to send them to")
	key := fs.String("key", os.Getenv("ATENDE_DEMO_API_KEY"), "scenarios: an API key of the account to run them in (a fresh one: contacts persist)")
	stepWait := fs.Duration("step-wait", 30*time.Second, "scenarios: how long a step may take to be answered")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("usage: atende eval [-folds 5 | -shipped] [-json] FILE.jsonl... | [-server URL -key KEY] SCENARIO.json|DIR...")
	}
	routing, scenarios, err := splitEvalArgs(fs.Args())
	if err != nil {
		return err
	}
	if len(scenarios) > 0 {
		if len(routing) > 0 {
			return errors.New("eval: give routing sets (.jsonl) or scenarios (.json, directories), not both")
		}
		if *key == "" {
			if raw, err := os.ReadFile(".atende/demo-api-key"); err == nil {
				*key = strings.TrimSpace(string(raw))
			}
		}
		return runScenarios(ctx, os.Stdout, *server, *key, scenarios, *stepWait, *asJSON)
	}
	var always []offline.LabelledMessage
	if *builtin {
		if always, err = agents.BuiltinExamples(); err != nil {
			return err
		}
	}
	out := map[string]offline.Report{}
	for _, path := range routing {
		rows, err := readRoutingSet(path)
		if err != nil {
			return err
		}
		var rep offline.Report
		if *shipped {
			rep = offline.Shipped(rows, offline.TrainOptions{}, always)
		} else {
			rep = offline.CrossValidate(rows, *folds, offline.TrainOptions{}, always)
		}
		out[path] = rep
		if !*asJSON {
			printReport(os.Stdout, path, rep)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if len(out) == 1 {
			for _, rep := range out {
				return enc.Encode(rep)
			}
		}
		return enc.Encode(out)
	}
	return nil
}

func readRoutingSet(path string) ([]offline.LabelledMessage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	var rows []offline.LabelledMessage
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var r offline.LabelledMessage
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if r.ID == "" {
			r.ID = fmt.Sprintf("%s:%d", path, n)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s has no lines", path)
	}
	return rows, nil
}

func printReport(w io.Writer, path string, rep offline.Report) {
	mode := fmt.Sprintf("%d-fold cross-validation", rep.Folds)
	if rep.Folds == 0 {
		mode = "the router as shipped (trained on the built-in examples only)"
	}
	fmt.Fprintf(w, "%s — %d messages, %s\n", path, rep.Examples, mode)
	fmt.Fprintf(w, "  sector (%d lines with a business sector): accuracy %.3f   macro-F1 %.3f\n", rep.SectorLines, rep.SectorAccuracy, rep.SectorMacroF1)
	if rep.NoTopicDeclined.Of > 0 {
		fmt.Fprintf(w, "  no-topic lines left without a sector: %d/%d\n", rep.NoTopicDeclined.Count, rep.NoTopicDeclined.Of)
	}
	fmt.Fprintf(w, "  handoff precision %.3f   recall %.3f   F1 %.3f   (tp %d fp %d fn %d)\n", rep.HandoffPrecision,
		rep.HandoffRecall, rep.HandoffF1, rep.Handoff["true_positive"], rep.Handoff["false_positive"], rep.Handoff["false_negative"])
	labels := sortedKeys(rep.Labels)
	fmt.Fprintf(w, "  %-10s %9s %9s %9s %8s\n", "sector", "precision", "recall", "f1", "support")
	for _, l := range labels {
		s := rep.Labels[l]
		fmt.Fprintf(w, "  %-10s %9.3f %9.3f %9.3f %8d\n", l, s.Precision, s.Recall, s.F1, s.Support)
	}
	fmt.Fprintf(w, "  confusion (rows gold, columns predicted; other = no sector)\n  %-10s", "")
	for _, l := range labels {
		fmt.Fprintf(w, " %8s", l)
	}
	fmt.Fprintf(w, " %8s\n", "other")
	for _, g := range labels {
		fmt.Fprintf(w, "  %-10s", g)
		other := 0
		for p, n := range rep.Confusion[g] {
			if !offline.HasTopic(p) {
				other += n
			}
		}
		for _, p := range labels {
			fmt.Fprintf(w, " %8d", rep.Confusion[g][p])
		}
		fmt.Fprintf(w, " %8d\n", other)
	}
	printRates(w, "handoff recall by", rep.HandoffRecallBy)
	printRates(w, "handoff false positives by", rep.HandoffFalsePositives)
	printRates(w, "sector accuracy by source intent", rep.IntentAccuracy)
	fmt.Fprintln(w)
}

func printRates(w io.Writer, title string, rates map[string]offline.Rate) {
	if len(rates) == 0 {
		return
	}
	fmt.Fprintf(w, "  %s:\n", title)
	for _, k := range sortedKeys(rates) {
		r := rates[k]
		fmt.Fprintf(w, "    %-28s %4d/%-4d %.3f\n", k, r.Count, r.Of, r.Rate)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
