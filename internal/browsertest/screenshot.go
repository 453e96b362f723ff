package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// Screenshot saves a full-page PNG of the current page to path (creating
// directories), at the default 1024 px viewport width.
func (b *Browser) Screenshot(path string) {
	b.t.Helper()
	b.ScreenshotAt(path, defaultWidth)
}

// ScreenshotAt is Screenshot at another viewport width, e.g. 390 for a
// phone. The page is laid out at that width for the capture and the viewport
// is restored afterwards, so later steps see the usual window again.
func (b *Browser) ScreenshotAt(path string, width int) {
	b.t.Helper()
	if width <= 0 {
		b.t.Fatalf("browsertest: screenshot width %d is not positive", width)
	}
	png := get(b, "screenshot", func(ctx context.Context) ([]byte, error) {
		return capture(ctx, width)
	})
	if err := writeFile(path, png); err != nil {
		b.t.Fatalf("browsertest: screenshot: %v", err)
	}
}

// capture lays the page out at width and takes a PNG of all of it.
func capture(ctx context.Context, width int) (png []byte, err error) {
	// Scale 1 keeps image pixels equal to CSS pixels, so the PNG is
	// exactly width wide whatever the host's display would say.
	err = chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), defaultHeight, chromedp.EmulateScale(1)))
	if err != nil {
		return nil, err
	}
	defer func() {
		// Clearing the override, rather than setting a zero size, gives
		// the window its own size back.
		_, rerr := chromedp.Call(ctx, emulation.ClearDeviceMetricsOverride, cdp.Empty{})
		if rerr != nil && err == nil {
			err = fmt.Errorf("restoring the viewport: %w", rerr)
		}
	}()
	// Quality 100 selects PNG.
	return chromedp.Run(ctx, chromedp.FullScreenshot(100))
}

// writeFile writes data to path, creating its parent directories.
func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil { // #nosec G301 -- screenshots are published documentation
		return fmt.Errorf("creating the directory: %w", err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil { // #nosec G306 -- screenshots are published documentation
		return fmt.Errorf("writing the file: %w", err)
	}
	return nil
}
