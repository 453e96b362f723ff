package browsertest

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// recorder keeps what the page did without being asked: dialogs it opened
// and what it wrote to the console. It is filled from the tab's event loop
// and read from the test goroutine, hence the lock.
type recorder struct {
	mu      sync.Mutex
	dialogs []string
	console []string
}

func newRecorder() *recorder { return &recorder{} }

func (r *recorder) addDialog(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dialogs = append(r.dialogs, msg)
}

func (r *recorder) addConsole(line string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.console = append(r.console, line)
}

func (r *recorder) snapshot() (dialogs, console []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.dialogs), slices.Clone(r.console)
}

// Dialogs returns JavaScript dialog messages seen so far (alert/confirm/prompt).
func (b *Browser) Dialogs() []string {
	d, _ := b.rec.snapshot()
	return d
}

// ConsoleMessages returns console API calls and page exceptions seen so far,
// as text: "log: hello", "error: boom", "exception: Uncaught Error: bad".
func (b *Browser) ConsoleMessages() []string {
	_, c := b.rec.snapshot()
	return c
}

// onEvent is registered with chromedp.Listen. It runs on the loop that reads
// the tab's messages, in arrival order, so an event that precedes a command's
// reply is recorded before that command returns. It must return quickly and
// must not issue commands itself.
func (b *Browser) onEvent(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		b.rec.addConsole(string(ev.Type) + ": " + argsText(ev.Args))
	case *runtime.EventExceptionThrown:
		b.rec.addConsole("exception: " + exceptionText(ev.ExceptionDetails))
	case *page.EventJavascriptDialogOpening:
		b.rec.addDialog(ev.Message)
		b.answerDialog(ev.Type)
	}
}

// answerDialog closes an open dialog from a separate goroutine, since the
// event loop that saw it cannot send commands. A pending dialog blocks the
// page's script and any navigation, so leaving it open would hang the test.
func (b *Browser) answerDialog(typ page.DialogType) {
	// Dismiss alert/confirm/prompt like a cautious user; but accept
	// "leave this page?" so that navigation away always proceeds.
	accept := typ == page.DialogTypeBeforeunload
	b.pending.Go(func() {
		ctx, cancel := context.WithTimeout(b.ctx, defaultTimeout)
		defer cancel()
		// An error here means the tab is already gone; nothing to close.
		_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: accept})
	})
}

// argsText renders console.* arguments roughly the way DevTools prints them:
// strings bare, other primitives as their literal, objects by description.
func argsText(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		parts = append(parts, remoteText(a))
	}
	return strings.Join(parts, " ")
}

func remoteText(o *runtime.RemoteObject) string {
	if o == nil {
		return ""
	}
	if o.Type == runtime.RemoteObjectTypeUndefined {
		return "undefined"
	}
	if o.UnserializableValue != "" {
		return string(o.UnserializableValue)
	}
	if len(o.Value) > 0 {
		var s string
		if err := json.Unmarshal(o.Value, &s); err == nil {
			return s
		}
		return string(o.Value)
	}
	if o.Description != "" {
		return o.Description
	}
	return string(o.Type)
}

// exceptionText gives "Uncaught Error: message" for a thrown error, without
// the stack, which would only make assertions brittle.
func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return ""
	}
	if d.Exception == nil {
		return d.Text
	}
	desc, _, _ := strings.Cut(remoteText(d.Exception), "\n")
	return strings.TrimSpace(d.Text + " " + desc)
}
