package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// Download clicks a link/button that triggers a file download and returns the
// saved file's bytes and the suggested filename, waiting up to the per-call
// timeout (20 s by default) for the download to complete.
func (b *Browser) Download(sel string) (data []byte, filename string) {
	b.t.Helper()
	dir := b.DownloadDir
	b.do("download "+sel, func(ctx context.Context) error {
		var err error
		data, filename, err = download(ctx, dir, sel)
		return err
	})
	return data, filename
}

// download does the work of Download. Files are saved under their download
// GUID rather than the server's name, so a second download of the same file
// cannot collide with the first, and a hostile name cannot steer the path.
func download(ctx context.Context, dir, sel string) ([]byte, string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", fmt.Errorf("download dir: %w", err)
	}
	_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior:      browser.SetDownloadBehaviorBehaviorAllowAndName,
		DownloadPath:  dir,
		EventsEnabled: new(true),
	})
	if err != nil {
		return nil, "", fmt.Errorf("set download behavior: %w", err)
	}

	// Subscribe before clicking so neither event can slip past.
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	begins := chromedp.BrowserEvents(lctx, browser.DownloadWillBegin)
	progress := chromedp.BrowserEvents(lctx, browser.DownloadProgress)

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		return nil, "", err
	}

	var guid, name string
	for ev, err := range begins {
		if err != nil {
			return nil, "", fmt.Errorf("waiting for the download to begin: %w", err)
		}
		guid, name = ev.GUID, ev.SuggestedFilename
		break
	}
	if guid == "" {
		return nil, "", errors.New("no download began")
	}

	for ev, err := range progress {
		if err != nil {
			return nil, "", fmt.Errorf("waiting for the download to finish: %w", err)
		}
		if ev.GUID != guid {
			continue
		}
		switch ev.State {
		case browser.DownloadProgressStateCompleted:
			path := filepath.Join(dir, guid)
			data, err := os.ReadFile(path) // #nosec G304 -- a file in the test's own download directory
			if err != nil {
				return nil, "", fmt.Errorf("reading the downloaded file: %w", err)
			}
			return data, name, nil
		case browser.DownloadProgressStateCanceled:
			return nil, "", errors.New("download canceled by the browser")
		}
	}
	return nil, "", errors.New("download events ended before completion")
}
