// Package browser starts the headless Chromium that page tests drive, with
// the flags this machine needs (no sandbox as root, no GPU, no background
// networking: the network is closed).
package browser

import (
	"context"
	"os"
	"testing"

	"github.com/chromedp/chromedp"
)

// New returns a chromedp context on a fresh headless Chromium (ATENDE_CHROMIUM,
// set by make test), closed when the test ends.
func New(t testing.TB) context.Context {
	t.Helper()
	path := os.Getenv("ATENDE_CHROMIUM")
	if path == "" {
		t.Fatal("ATENDE_CHROMIUM is not set: run the tests with `make test`, which finds or installs Chromium")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1200, 800),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	return ctx
}
