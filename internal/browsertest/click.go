package browsertest

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// navGrace is how long Click waits, after the click is delivered, for a
// navigation of the main frame to begin. A form submission is scheduled as a
// separate task in the renderer, so it can start a little after the click
// itself has been acknowledged.
const navGrace = 300 * time.Millisecond

// Click clicks the element and, if that starts a navigation of the page,
// waits for the new page to load (use this for form submit buttons). A click
// that navigates nowhere returns after a short grace period.
func (b *Browser) Click(sel string) {
	b.t.Helper()
	b.do("click "+sel, func(ctx context.Context) error {
		return clickAndWait(ctx, sel, navGrace)
	})
}

// clickAndWait clicks sel and waits for the load of any main-frame
// navigation that begins within grace of the click.
func clickAndWait(ctx context.Context, sel string, grace time.Duration) error {
	tree, err := chromedp.Call(ctx, page.GetFrameTree, cdp.Empty{})
	if err != nil {
		return err
	}
	if tree.FrameTree == nil || tree.FrameTree.Frame == nil {
		return errors.New("page has no main frame")
	}
	mainID := tree.FrameTree.Frame.ID

	lctx, stopListening := context.WithCancel(ctx)
	defer stopListening()
	started := make(chan struct{})
	var once sync.Once
	// Either event proves a navigation is under way: the renderer reports
	// the request, the browser reports the start.
	err = chromedp.Listen(lctx, func(ev any) {
		var id cdp.FrameID
		switch ev := ev.(type) {
		case *page.EventFrameRequestedNavigation:
			id = ev.FrameID
		case *page.EventFrameStartedNavigating:
			id = ev.FrameID
		default:
			return
		}
		if id == mainID {
			once.Do(func() { close(started) })
		}
	})
	if err != nil {
		return err
	}

	// RunResponse waits for the page load after the click, but forever if
	// none comes; the watchdog ends that wait when the grace period passes
	// without a navigation.
	waitCtx, stopWaiting := context.WithCancel(ctx)
	defer stopWaiting()
	clicked := make(chan struct{})
	idle := make(chan struct{})
	var watchdog sync.WaitGroup
	watchdog.Go(func() {
		select {
		case <-clicked:
		case <-waitCtx.Done():
			return
		}
		timer := time.NewTimer(grace)
		defer timer.Stop()
		select {
		case <-started:
		case <-timer.C:
			close(idle)
			stopWaiting()
		case <-waitCtx.Done():
		}
	})
	markClicked := chromedp.Func(func(context.Context, *chromedp.Target) error {
		close(clicked)
		return nil
	})
	_, err = chromedp.RunResponse(waitCtx, chromedp.Click(chromedp.CSS(sel)), markClicked)
	stopWaiting()
	watchdog.Wait()

	select {
	case <-idle:
		// No navigation: the canceled wait is the expected outcome, unless
		// the caller's own deadline ran out meanwhile.
		return ctx.Err()
	default:
		return err
	}
}
