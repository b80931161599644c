package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/google/uuid"

	"github.com/atende/atende/agents"
	"github.com/atende/atende/prompts"
)

// replayCmd re-runs a contact's stored conversation with other prompt
// versions and prints, turn by turn, what changes. It writes nothing.
func replayCmd(ctx context.Context, log *slog.Logger, args []string) error {
	return replay(ctx, log, args, os.Stdout)
}

func replay(ctx context.Context, log *slog.Logger, args []string, w io.Writer) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	slug := fs.String("account", DemoAccountSlug, "the account (slug) the contact belongs to")
	var versions stringList
	fs.Var(&versions, "prompt-version", "a prompt version (NAME@HASH) to replay with instead of the active one; repeatable")
	asJSON := fs.Bool("json", false, "print the turns as JSON")
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if id == "" && fs.NArg() > 0 {
		id = fs.Arg(0)
	}
	contactID, err := uuid.Parse(id)
	if err != nil {
		return errors.New("usage: atende replay CONTACT_ID [--prompt-version NAME@HASH]... [-account slug] [-json]")
	}
	app, acct, err := accountApp(ctx, log, *slug)
	if err != nil {
		return err
	}
	defer app.Pool.Close()
	var override []prompts.Prompt
	for _, v := range versions {
		p, err := app.Prompts.Version(ctx, acct.ID, v)
		if err != nil {
			return err
		}
		override = append(override, p)
	}
	turns, err := app.Orchestrator.Replay(ctx, acct.ID, contactID, override)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"contact_id": contactID, "prompt_versions": []string(versions), "turns": turns})
	}
	printReplay(w, turns)
	return nil
}

func printReplay(w io.Writer, turns []agents.ReplayTurn) {
	changed := 0
	for i, t := range turns {
		mark := "= unchanged"
		if len(t.Changed) > 0 {
			changed++
			mark = "≠ " + strings.Join(t.Changed, ", ")
		}
		fmt.Fprintf(w, "turn %d · %s · %s   %s\n", i+1, t.Channel, t.At, mark)
		fmt.Fprintf(w, "  customer: %s\n", oneLine(t.Customer))
		fmt.Fprintf(w, "  before:   %s\n", describe(t.Before, t.Reply))
		fmt.Fprintf(w, "  after:    %s\n\n", describe(t.After, t.Again))
	}
	fmt.Fprintf(w, "%d turns, %d changed\n", len(turns), changed)
}

func describe(d agents.Decision, reply string) string {
	what := d.Sector
	switch {
	case d.Handoff != "":
		what += " → handoff (" + d.Handoff + ")"
	case d.Clarify:
		what += " → clarifying question"
	}
	version := "offline"
	if len(d.Prompts) > 0 {
		version = d.Prompts[0]
	}
	return fmt.Sprintf("[%s %s] %s: %q", d.Engine, version, what, oneLine(reply))
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 140 {
		return string(r[:139]) + "…"
	}
	return s
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }
