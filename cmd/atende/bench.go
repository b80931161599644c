package main

import (
	"context"
	"errors"
	"log/slog"
)

func benchSeed(ctx context.Context, log *slog.Logger, args []string) error {
	return errors.New("not built yet")
}

func benchRetrieval(ctx context.Context, log *slog.Logger, args []string) error {
	return errors.New("not built yet")
}
