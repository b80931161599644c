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

	"github.com/atende/atende/accounts"
	"github.com/atende/atende/internal/database"
)

// slugPattern is what an account's slug may be: it names the company at the
// inbox's login and in the business file.
var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}$`)

const accountsUsage = `usage: atende accounts create -slug SLUG -name "Company" [-key-name NAME]
       atende accounts key -slug SLUG [-key-name NAME]
create makes a tenant (or finds it) and issues it an API key; key issues another.
The key is printed once: only its hash is stored.`

// accountsCmd runs a second (or hundredth) tenant: create an account and issue
// API keys for it, printed once.
func accountsCmd(ctx context.Context, log *slog.Logger, args []string) error {
	return runAccounts(ctx, log, args, os.Stdout)
}

func runAccounts(ctx context.Context, log *slog.Logger, args []string, out io.Writer) error {
	if len(args) < 1 || (args[0] != "create" && args[0] != "key") {
		return errors.New(accountsUsage)
	}
	fs := flag.NewFlagSet("accounts "+args[0], flag.ContinueOnError)
	slug := fs.String("slug", "", "the account's slug (lower-case letters, digits, hyphens)")
	name := fs.String("name", "", "the company's name (create)")
	keyName := fs.String("key-name", "cli", "a name for the key, to tell keys apart")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	*slug = strings.TrimSpace(*slug)
	if !slugPattern.MatchString(*slug) {
		return fmt.Errorf("-slug %q: use 2 to 63 lower-case letters, digits and hyphens\n%s", *slug, accountsUsage)
	}
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
	store := accounts.NewStore(pool)
	var acct accounts.Account
	if args[0] == "create" {
		if strings.TrimSpace(*name) == "" {
			return errors.New("-name is required: the company's name")
		}
		if acct, err = store.Ensure(ctx, *slug, strings.TrimSpace(*name)); err != nil {
			return err
		}
	} else if acct, err = store.BySlug(ctx, *slug); err != nil {
		return fmt.Errorf("account %q: %w", *slug, err)
	}
	key, err := store.NewKey(ctx, acct.ID, *keyName)
	if err != nil {
		return err
	}
	log.Info("api key issued", "account", acct.Slug, "key_name", *keyName)
	fmt.Fprintf(out, "account: %s (%s, %s)\napi key: %s\n(shown once; only its hash is stored)\n", acct.Name, acct.Slug, acct.ID, key)
	return nil
}
