package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/atende/atende/agents"
	"github.com/atende/atende/channels"
	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/internal/secretbox"
	"github.com/atende/atende/migrations"
	"github.com/atende/atende/webhooks"
)

// secretKeyEnv holds the keys that seal channel, webhook and tool secrets.
const secretKeyEnv = "ATENDE_SECRET_KEY"

// secretKeys reads ATENDE_SECRET_KEY into a Box; unset is nil (only the
// commands that touch stored secrets need it, and say so: SecretBox).
func secretKeys(v string) (*secretbox.Box, error) {
	if v == "" {
		return nil, nil
	}
	keys, err := secretbox.ParseKeys(v)
	if err != nil {
		return nil, fmt.Errorf("%w (make one with `openssl rand -base64 32`)", err)
	}
	return secretbox.New(keys...)
}

// SecretBox is the Box of ATENDE_SECRET_KEY. Every command that reads or
// writes stored secrets needs it, and refuses to start without it rather
// than store secrets in clear.
func (s Settings) SecretBox() (*secretbox.Box, error) {
	if s.Secrets == nil {
		return nil, fmt.Errorf("%s is not set: it encrypts channel, webhook and tool secrets in the database. "+
			"Make one with `openssl rand -base64 32` and keep it (without it the stored secrets cannot be read); "+
			"`make run` generates one into .atende/secret_key", secretKeyEnv)
	}
	return s.Secrets, nil
}

// secretsCmd is `atende secrets rotate`: re-seal every stored secret with
// the first key of ATENDE_SECRET_KEY, so the others can then be dropped.
func secretsCmd(ctx context.Context, _ *slog.Logger, args []string) error {
	return secretsRun(ctx, os.Stdout, args)
}

func secretsRun(ctx context.Context, out io.Writer, args []string) error {
	if len(args) < 1 || args[0] != "rotate" {
		return errors.New("usage: atende secrets rotate [-batch 100]")
	}
	fs := flag.NewFlagSet("secrets rotate", flag.ContinueOnError)
	batch := fs.Int("batch", 100, "rows read per query (each row is re-sealed in its own transaction)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *batch < 1 {
		return errors.New("-batch must be at least 1")
	}
	s, err := serverSettings()
	if err != nil {
		return err
	}
	box, err := s.SecretBox()
	if err != nil {
		return err
	}
	pool, err := database.Open(ctx, s.DatabaseURL, 0)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := migrations.Check(ctx, pool); err != nil {
		return fmt.Errorf("%w (run atende migrate first)", err)
	}
	tables := []struct {
		name   string
		reseal func(context.Context, int) (secretbox.Tally, error)
	}{
		{"channels", channels.NewStore(pool, box).ResealSecrets},
		{"webhook subscriptions", webhooks.NewStore(pool, box, nil).ResealSecrets},
		{"tools", agents.NewSectorStore(pool, box).ResealSecrets},
	}
	fmt.Fprintf(out, "re-sealing with key %s\n", box.SealingKeyID())
	for _, t := range tables {
		tally, err := t.reseal(ctx, *batch)
		if errors.Is(err, secretbox.ErrUnknownKey) {
			return fmt.Errorf("rotate %s (%d re-sealed before the error): %w; keep the old key in %s, after the new one, until rotate has run",
				t.name, tally.Resealed, err, secretKeyEnv)
		}
		if err != nil {
			return fmt.Errorf("rotate %s (%d re-sealed before the error; run it again once fixed): %w", t.name, tally.Resealed, err)
		}
		fmt.Fprintf(out, "  %-22s %d read, %d re-sealed\n", t.name, tally.Rows, tally.Resealed)
	}
	fmt.Fprintln(out, "every stored secret is sealed with the first key: the others can be removed from "+secretKeyEnv)
	return nil
}
