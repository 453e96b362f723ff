package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// Navigate loads url and waits for the load event.
func (b *Browser) Navigate(url string) {
	b.t.Helper()
	b.do("navigate", func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.Navigate(url))
	})
}

// Location returns the current URL.
func (b *Browser) Location() string {
	b.t.Helper()
	return get(b, "location", func(ctx context.Context) (string, error) {
		return chromedp.Run(ctx, chromedp.Location())
	})
}

// Text returns the visible text (innerText) of the first element matching the
// CSS selector; "" if none. It does not wait for the element to appear.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	expr := fmt.Sprintf(`(() => { const e = document.querySelector(%s); return e ? e.innerText : ""; })()`, jsString(sel))
	return get(b, "text "+sel, func(ctx context.Context) (string, error) {
		return chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	})
}

// HTML returns document.documentElement.outerHTML.
func (b *Browser) HTML() string {
	b.t.Helper()
	return get(b, "html", func(ctx context.Context) (string, error) {
		return chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	})
}

// Fill sets the value of an input/textarea (selector) by typing: the field is
// emptied first, then value is sent as key events, so the page's input
// handlers run as they would for a person.
func (b *Browser) Fill(sel, value string) {
	b.t.Helper()
	empty := fmt.Sprintf(`(() => { const e = document.querySelector(%s); if (!e) return false; e.value = ""; return true; })()`, jsString(sel))
	// Only the selector is named on failure; value may be sensitive.
	b.do("fill "+sel, func(ctx context.Context) error {
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
			return err
		}
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](empty))
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("element vanished before it could be cleared")
		}
		return chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(sel), value))
	})
}

// SetFiles sets files on an <input type=file> (selector). Relative paths are
// resolved against the working directory, since the browser has its own.
func (b *Browser) SetFiles(sel string, paths ...string) {
	b.t.Helper()
	abs := make([]string, 0, len(paths))
	for _, p := range paths {
		a, err := filepath.Abs(p)
		if err != nil {
			b.t.Fatalf("browsertest: set files %s: %v", sel, err)
		}
		abs = append(abs, a)
	}
	b.do("set files "+sel, func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS(sel), abs, chromedp.NodeReady))
	})
}

// jsString quotes s as a JavaScript string literal, so a selector with
// quotes in it cannot break out of the expression it is placed in.
func jsString(s string) string {
	// Marshaling a string cannot fail.
	lit, _ := json.Marshal(s)
	return string(lit)
}

// ClickNoWait clicks the element and returns at once, whatever the click
// sets in motion.
func (b *Browser) ClickNoWait(sel string) {
	b.t.Helper()
	b.do("click "+sel, func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel)))
	})
}

// Cookies returns the cookies the browser holds for url (name, value,
// HttpOnly, Secure, SameSite).
func (b *Browser) Cookies(url string) []*network.Cookie {
	b.t.Helper()
	return get(b, "cookies", func(ctx context.Context) ([]*network.Cookie, error) {
		res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{url}})
		if err != nil {
			return nil, err
		}
		return res.Cookies, nil
	})
}

// Frames returns the document URLs of every frame in the page (main and
// iframes), main frame first.
//
// Frames from another site live in their own renderer and may be missing
// from the tab's frame tree, so iframe targets are added as well.
func (b *Browser) Frames() []string {
	b.t.Helper()
	return get(b, "frames", func(ctx context.Context) ([]string, error) {
		res, err := chromedp.Call(ctx, page.GetFrameTree, cdp.Empty{})
		if err != nil {
			return nil, err
		}
		urls := frameURLs(nil, res.FrameTree)
		infos, err := chromedp.Targets(ctx)
		if err != nil {
			return nil, err
		}
		return appendIframeTargets(urls, infos), nil
	})
}

// frameURLs appends the URL of every frame in tree, depth first.
func frameURLs(urls []string, tree *page.FrameTree) []string {
	if tree == nil || tree.Frame == nil {
		return urls
	}
	urls = append(urls, tree.Frame.URL+tree.Frame.URLFragment)
	for _, c := range tree.ChildFrames {
		urls = frameURLs(urls, c)
	}
	return urls
}

// appendIframeTargets adds the URLs of out-of-process iframes not already
// listed. The browser has a single tab, so every iframe target is ours.
func appendIframeTargets(urls []string, infos []*target.Info) []string {
	seen := make(map[string]bool, len(urls))
	for _, u := range urls {
		seen[u] = true
	}
	for _, in := range infos {
		if in == nil || in.Type != "iframe" || seen[in.URL] {
			continue
		}
		seen[in.URL] = true
		urls = append(urls, in.URL)
	}
	return urls
}
