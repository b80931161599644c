package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"text/tabwriter"
	"time"

	"github.com/atende/atende/accounts"
)

const keysUsage = `usage: atende keys create -account SLUG [-name LABEL]
       atende keys list -account SLUG
       atende keys revoke -account SLUG ID|PREFIX
create issues the account an API key and prints it once (only its hash is
stored); list shows each key's id, prefix, label, when it was created and
last used (to the minute) and whether it is revoked, never the key; revoke
stops a key at once (its next request is 401), named by its id, its prefix
or the key itself. Revoking the account's last active key is allowed here
(the REST API refuses it) and says the account has none left.`

// keysCmd manages an account's API keys from the operator's side: issue one
// (printed once), list them without their secrets, revoke one.
func keysCmd(ctx context.Context, log *slog.Logger, args []string) error {
	return runKeys(ctx, log, args, os.Stdout)
}

func runKeys(ctx context.Context, log *slog.Logger, args []string, out io.Writer) error {
	if len(args) < 1 || (args[0] != "create" && args[0] != "list" && args[0] != "revoke") {
		return errors.New(keysUsage)
	}
	fs := flag.NewFlagSet("keys "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	slug := fs.String("account", "", "the account's slug")
	label := fs.String("name", "cli", "a label for the key, to tell keys apart (create)")
	positional, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return fmt.Errorf("%w\n%s", err, keysUsage)
	}
	if *slug == "" {
		return fmt.Errorf("-account is required\n%s", keysUsage)
	}
	s, err := oneSlug(*slug, nil)
	if err != nil {
		return err
	}
	switch {
	case args[0] == "revoke" && len(positional) != 1:
		return fmt.Errorf("name one key to revoke, by its id or prefix\n%s", keysUsage)
	case args[0] != "revoke" && len(positional) > 0:
		return fmt.Errorf("unexpected %q\n%s", positional, keysUsage)
	}
	return withAccounts(ctx, func(store *accounts.Store) error {
		acct, err := store.BySlug(ctx, s)
		if err != nil {
			return err
		}
		switch args[0] {
		case "create":
			return issueKey(ctx, log, store, acct, *label, out)
		case "list":
			return listKeys(ctx, store, acct, out)
		default:
			return revokeKey(ctx, log, store, acct, positional[0], out)
		}
	})
}

func listKeys(ctx context.Context, store *accounts.Store, acct accounts.Account, out io.Writer) error {
	keys, err := store.Keys(ctx, acct.ID)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tPREFIX\tLABEL\tCREATED\tLAST USED\tREVOKED")
	for _, k := range keys {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Prefix, k.Name, k.CreatedAt.UTC().Format(listTime), orDash(k.LastUsedAt), orDash(k.RevokedAt))
	}
	return w.Flush()
}

func revokeKey(ctx context.Context, log *slog.Logger, store *accounts.Store, acct accounts.Account, ref string, out io.Writer) error {
	k, active, err := store.RevokeKey(ctx, acct.ID, ref, accounts.RevokeOptions{})
	if err != nil {
		return fmt.Errorf("account %s: %w", acct.Slug, err)
	}
	log.Info("api key revoked", "account", acct.Slug, "key_id", k.ID, "key_name", k.Name)
	fmt.Fprintf(out, "revoked: %s (prefix %s, label %s) at %s\n", k.ID, k.Prefix, k.Name, k.RevokedAt.UTC().Format(time.RFC3339))
	if active == 0 {
		fmt.Fprintf(out, "warning: %s has no active API key left; issue one with atende keys create -account %s\n", acct.Slug, acct.Slug)
	}
	return nil
}

// listTime is how lists show times: UTC, to the minute.
const listTime = "2006-01-02 15:04"

func orDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(listTime)
}
