// Package browsertest drives a real headless Chromium from Go tests, so the
// web portal is exercised the way a patient's or clinician's browser sees it:
// forms, cookies, downloads, uploads, dialogs, frames and screenshots.
//
// It owns the browser's life cycle (one browser with one tab per Start, torn
// down at test cleanup), the record of what the page did on its own (console
// output, JavaScript dialogs, uncaught exceptions), and Canary, a loopback
// server that stands in for an attacker's host so tests can prove that
// untrusted content never phoned home.
//
// It is a normal package imported from other packages' _test.go files. When
// no browser is installed, Start skips the test unless
// SEALPOST_REQUIRE_BROWSER=1 makes that a failure.
package browsertest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const (
	// defaultTimeout bounds every single browser call; a page that hangs
	// fails the test instead of stalling the whole run.
	defaultTimeout = 20 * time.Second
	// launchTimeout bounds one start of the browser.
	launchTimeout = 60 * time.Second
	// closeTimeout bounds the graceful shutdown at cleanup.
	closeTimeout = 5 * time.Second
	// defaultWidth and defaultHeight are the window size of a fresh browser,
	// a common small-laptop viewport.
	defaultWidth  = 1024
	defaultHeight = 768
)

// Browser is one headless Chromium with one tab.
//
// Its methods are meant for the test goroutine: on any browser error they
// fail the test through the testing.TB given to Start.
type Browser struct {
	// DownloadDir is where Download saves files. Start sets it to a fresh
	// t.TempDir(); a test may change it before calling Download.
	DownloadDir string
	// Timeout bounds each call (Run, Navigate, Download, ...). Zero means
	// the 20 s default.
	Timeout time.Duration

	t   testing.TB
	ctx context.Context // the tab's chromedp context
	rec *recorder
	// pending tracks goroutines that answer dialogs, so cleanup can wait
	// for them after the browser is gone.
	pending sync.WaitGroup
}

// Start launches the browser for t and closes it at t.Cleanup. When no browser
// is found it calls t.Skip unless the environment variable
// SEALPOST_REQUIRE_BROWSER=1, in which case it calls t.Fatal with a message
// saying to run scripts/deps.sh.
//
// Downloads go to DownloadDir (t.TempDir() by default); all console messages,
// JavaScript dialogs (alert/confirm/prompt) and page errors are recorded, and
// dialogs are dismissed automatically so the page never hangs.
func Start(t testing.TB) *Browser {
	t.Helper()
	path := Path()
	if !haveBrowser(t, path) {
		return nil
	}
	// Chromium's start is heavy: while `go test ./...` compiles other packages on a
	// small machine it can take tens of seconds, and now and then it hangs. A start
	// gets launchTimeout, and a second try with a fresh profile.
	for try := 1; ; try++ {
		ctx, cancelTab, cancelAlloc := launch(t, path)
		b := &Browser{t: t, ctx: ctx}
		// The first call launches the process and binds its life to ctx, so it
		// must not carry a deadline; a timer tears the browser down instead if
		// it never comes up.
		hung := time.AfterFunc(launchTimeout, cancelTab)
		err := chromedp.Do(ctx)
		hung.Stop()
		if err == nil {
			b.DownloadDir, b.rec = t.TempDir(), newRecorder()
			// Registered after the profile's TempDir, so it runs before that is
			// removed: Chromium must be gone before its profile directory is.
			t.Cleanup(func() { b.close(cancelTab, cancelAlloc) })
			if err := chromedp.Listen(ctx, b.onEvent); err != nil {
				t.Fatalf("browsertest: listening to the tab: %v", err)
			}
			return b
		}
		cancelTab()
		cancelAlloc()
		if try == 2 {
			t.Fatalf("browsertest: launching %s (twice, limit %v each): %v", path, launchTimeout, err)
		}
		t.Logf("browsertest: launching %s: %v; trying once more", path, err)
	}
}

// launch prepares a browser with a fresh profile; the first chromedp call starts it.
func launch(t testing.TB, path string) (ctx context.Context, cancelTab, cancelAlloc context.CancelFunc) {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(defaultWidth, defaultHeight),
	}
	for _, f := range launchFlags() {
		name, value, hasValue := strings.Cut(f, "=")
		if hasValue {
			opts = append(opts, chromedp.Flag(name, value))
			continue
		}
		opts = append(opts, chromedp.Flag(name, true))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab = chromedp.NewContext(allocCtx)
	return ctx, cancelTab, cancelAlloc
}

// close shuts the browser down gracefully, then releases the allocator, which
// waits for the process to exit.
func (b *Browser) close(cancelTab, cancelAlloc context.CancelFunc) {
	ctx, cancel := context.WithTimeout(b.ctx, closeTimeout)
	// A failed graceful close is not the test's fault; the cancels below
	// kill whatever is left.
	_ = chromedp.Cancel(ctx)
	cancel()
	cancelTab()
	cancelAlloc()
	b.pending.Wait()
}

// Ctx is the tab's chromedp context for anything custom. It has no deadline;
// wrap it with context.WithTimeout for individual calls.
func (b *Browser) Ctx() context.Context { return b.ctx }

// timeout returns the per-call limit in force.
func (b *Browser) timeout() time.Duration {
	if b.Timeout > 0 {
		return b.Timeout
	}
	return defaultTimeout
}

// Run runs chromedp actions on the tab with a per-call timeout (default 20 s),
// failing t on error.
func (b *Browser) Run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	b.do("run", func(ctx context.Context) error {
		return chromedp.Do(ctx, actions...)
	})
}

// do runs fn under the per-call timeout and fails the test on error. what
// names the operation; it must never carry page content or typed values.
func (b *Browser) do(what string, fn func(ctx context.Context) error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.timeout())
	defer cancel()
	if err := fn(ctx); err != nil {
		b.t.Fatalf("browsertest: %s: %v", what, err)
	}
}

// get is do for operations that produce a value.
func get[T any](b *Browser, what string, fn func(ctx context.Context) (T, error)) T {
	b.t.Helper()
	var v T
	b.do(what, func(ctx context.Context) (err error) {
		v, err = fn(ctx)
		return err
	})
	return v
}
