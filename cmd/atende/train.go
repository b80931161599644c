package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/atende/atende/accounts"
	"github.com/atende/atende/agents"
)

// trainCmd fits an account's router on the built-in examples, its sectors'
// examples and the corrections people made, reports it by cross-validation,
// and makes it the router that routes the account's turns.
func trainCmd(ctx context.Context, log *slog.Logger, args []string) error {
	return train(ctx, log, args, os.Stdout)
}

func train(ctx context.Context, log *slog.Logger, args []string, w io.Writer) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	slug := fs.String("account", DemoAccountSlug, "the account (slug) whose router to train")
	folds := fs.Int("folds", 5, "cross-validation folds over the account's own examples")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	app, acct, err := accountApp(ctx, log, *slug)
	if err != nil {
		return err
	}
	defer app.Pool.Close()
	sectors, err := app.Sectors.Sectors(ctx, acct.ID)
	if err != nil {
		return err
	}
	t, err := app.Routers.Train(ctx, acct.ID, sectors, *folds)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(t)
	}
	printTrained(w, *slug, t)
	return nil
}

func printTrained(w io.Writer, slug string, t agents.Trained) {
	state := "already existed; active again"
	if t.Created {
		state = "new; active"
	}
	fmt.Fprintf(w, "account %s: router %s (%s)\n", slug, t.Version, state)
	fmt.Fprintf(w, "  %d examples: %d built in, %d of the account (sector examples and corrections)\n", t.Examples, t.Examples-t.Own, t.Own)
	if t.Report.Examples == 0 {
		fmt.Fprintln(w, "  too few of the account's own examples to cross-validate")
		return
	}
	printReport(w, "the account's own examples", t.Report)
}

// accountApp builds the app on DATABASE_URL and finds an account by slug,
// for the commands that work on one account with the app's parts. The
// caller closes app.Pool.
func accountApp(ctx context.Context, log *slog.Logger, slug string) (*App, accounts.Account, error) {
	s, err := serverSettings()
	if err != nil {
		return nil, accounts.Account{}, err
	}
	app, err := newApp(ctx, log, s)
	if err != nil {
		return nil, accounts.Account{}, err
	}
	acct, err := app.Accounts.BySlug(ctx, slug)
	if err != nil {
		app.Pool.Close()
		return nil, accounts.Account{}, fmt.Errorf("account %s: %w", slug, err)
	}
	return app, acct, nil
}
