package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"text/tabwriter"

	"github.com/atende/atende/accounts"
	"github.com/atende/atende/internal/database"
)

// slugPattern is what an account's slug may be: it names the company at the
// inbox's login and in the business file.
var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}$`)

const accountsUsage = `usage: atende accounts create SLUG [-name "Company"] [-key-name LABEL] [-no-key]
       atende accounts create -slug SLUG -name "Company" [-key-name LABEL]
       atende accounts list
       atende accounts key -slug SLUG [-key-name LABEL]   (the same as atende keys create)
create makes a tenant (or finds it: an existing account keeps its name) and
issues it an API key, unless -no-key; list shows every tenant with its count
of active keys. A key is printed once: only its hash is stored.
Keys are listed and revoked with atende keys.`

// accountsCmd runs a second (or hundredth) tenant: create an account and issue
// API keys for it, printed once.
func accountsCmd(ctx context.Context, log *slog.Logger, args []string) error {
	return runAccounts(ctx, log, args, os.Stdout)
}

func runAccounts(ctx context.Context, log *slog.Logger, args []string, out io.Writer) error {
	if len(args) < 1 {
		return errors.New(accountsUsage)
	}
	switch args[0] {
	case "create":
		return accountsCreate(ctx, log, args[1:], out)
	case "list":
		return accountsList(ctx, args[1:], out)
	case "key":
		// The first spelling of `atende keys create`, kept for scripts.
		return accountsKey(ctx, log, args[1:], out)
	}
	return errors.New(accountsUsage)
}

func accountsCreate(ctx context.Context, log *slog.Logger, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("accounts create", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	slug := fs.String("slug", "", "the account's slug (lower-case letters, digits, hyphens); or give it as the first argument")
	name := fs.String("name", "", "the company's name (default: the slug)")
	keyName := fs.String("key-name", "cli", "a label for the key, to tell keys apart")
	noKey := fs.Bool("no-key", false, "create the account only; issue keys with atende keys create")
	positional, err := parseInterleaved(fs, args)
	if err != nil {
		return fmt.Errorf("%w\n%s", err, accountsUsage)
	}
	s, err := oneSlug(*slug, positional)
	if err != nil {
		return err
	}
	display := strings.TrimSpace(*name)
	if display == "" {
		display = s
	}
	return withAccounts(ctx, func(store *accounts.Store) error {
		acct, err := store.Ensure(ctx, s, display)
		if err != nil {
			return err
		}
		if *noKey {
			fmt.Fprintf(out, "account: %s (%s, %s)\nno API key issued: atende keys create -account %s\n", acct.Name, acct.Slug, acct.ID, acct.Slug)
			return nil
		}
		return issueKey(ctx, log, store, acct, *keyName, out)
	})
}

func accountsKey(ctx context.Context, log *slog.Logger, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("accounts key", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	slug := fs.String("slug", "", "the account's slug")
	keyName := fs.String("key-name", "cli", "a label for the key, to tell keys apart")
	positional, err := parseInterleaved(fs, args)
	if err != nil {
		return fmt.Errorf("%w\n%s", err, accountsUsage)
	}
	s, err := oneSlug(*slug, positional)
	if err != nil {
		return err
	}
	return withAccounts(ctx, func(store *accounts.Store) error {
		acct, err := store.BySlug(ctx, s)
		if err != nil {
			return err
		}
		return issueKey(ctx, log, store, acct, *keyName, out)
	})
}

func accountsList(ctx context.Context, args []string, out io.Writer) error {
	if len(args) > 0 {
		return errors.New(accountsUsage)
	}
	return withAccounts(ctx, func(store *accounts.Store) error {
		list, err := store.List(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "SLUG\tNAME\tID\tCREATED\tACTIVE KEYS")
		for _, a := range list {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\n", a.Slug, a.Name, a.ID, a.CreatedAt.UTC().Format("2006-01-02 15:04"), a.ActiveKeys)
		}
		return w.Flush()
	})
}

// issueKey issues a key to acct and prints it: the one time it is seen.
// The log line names the account and the key's id, never the key.
func issueKey(ctx context.Context, log *slog.Logger, store *accounts.Store, acct accounts.Account, label string, out io.Writer) error {
	k, key, err := store.CreateKey(ctx, acct.ID, label)
	if err != nil {
		return fmt.Errorf("issue an api key to %s: %w", acct.Slug, err)
	}
	log.Info("api key issued", "account", acct.Slug, "key_id", k.ID, "key_name", k.Name)
	fmt.Fprintf(out, "account: %s (%s, %s)\napi key: %s\nkey id: %s  prefix: %s  label: %s\n(shown once; only its hash is stored)\n",
		acct.Name, acct.Slug, acct.ID, key, k.ID, k.Prefix, k.Name)
	return nil
}

// oneSlug is the account named by -slug or the first argument (not both,
// unless they agree), checked against slugPattern.
func oneSlug(flagged string, positional []string) (string, error) {
	slug := strings.TrimSpace(flagged)
	switch {
	case len(positional) > 1:
		return "", fmt.Errorf("one account at a time: got %q\n%s", positional, accountsUsage)
	case len(positional) == 1 && slug != "" && positional[0] != slug:
		return "", fmt.Errorf("the slug is given twice (%q and -slug %q)\n%s", positional[0], slug, accountsUsage)
	case len(positional) == 1:
		slug = strings.TrimSpace(positional[0])
	}
	if !slugPattern.MatchString(slug) {
		return "", fmt.Errorf("slug %q: use 2 to 63 lower-case letters, digits and hyphens\n%s", slug, accountsUsage)
	}
	return slug, nil
}

// parseInterleaved parses flags that may come before or after the
// positional arguments (`create acme -name "Acme"`), which flag.Parse alone
// stops at, and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil // after --, everything is positional
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// withAccounts runs fn on the accounts store of DATABASE_URL, migrated first
// (the CLI may be the first thing to touch a new database).
func withAccounts(ctx context.Context, fn func(*accounts.Store) error) error {
	url, err := databaseURL()
	if err != nil {
		return err
	}
	if err := database.Migrate(ctx, url); err != nil {
		return err
	}
	pool, err := database.Open(ctx, url, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	return fn(accounts.NewStore(pool))
}
