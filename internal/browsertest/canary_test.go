package browsertest

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

func TestCanaryDetectsOutboundRequests(t *testing.T) {
	t.Parallel()
	b := Start(t)
	cases := []struct {
		name     string
		body     func(canary string) string
		wantHits []string // nil: the canary must stay silent
	}{
		{
			name: "script fetch and image",
			body: func(c string) string {
				return `<script>fetch("` + c + `/x")</script><img src="` + c + `/pixel.gif">`
			},
			wantHits: []string{"GET /x", "GET /pixel.gif"},
		},
		{
			// Mentioning the address as text or an unclicked link loads nothing.
			name: "plain page",
			body: func(c string) string {
				return `<p>Write to us at ` + c + `/contact</p><a href="` + c + `/link">link</a>`
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			canary := StartCanary(t)
			srv := serve(t, map[string]http.HandlerFunc{"GET /": htmlPage(c.body(canary.URL()))})
			b.Navigate(srv.URL + "/")
			if c.wantHits == nil {
				// Absence cannot be awaited; give stray requests a moment.
				time.Sleep(200 * time.Millisecond)
				if hits := canary.Hits(); len(hits) != 0 {
					t.Errorf("canary hits = %q, want none", hits)
				}
				return
			}
			// The image holds the load event, the fetch may still be in flight.
			eventually(t, "canary hits", func() bool {
				hits := canary.Hits()
				for _, w := range c.wantHits {
					if !slices.Contains(hits, w) {
						return false
					}
				}
				return true
			})
		})
	}
}

func TestDialogsAndConsoleAreRecorded(t *testing.T) {
	t.Parallel()
	b := Start(t)
	srv := serve(t, map[string]http.HandlerFunc{
		"GET /alert": htmlPage(`<script>alert("hi")</script><p id="after">loaded</p>`),
		"GET /ask": htmlPage(`<p id="c"></p><p id="p"></p><script>
			document.getElementById("c").innerText = String(confirm("proceed?"));
			document.getElementById("p").innerText = String(prompt("name?", "x"));
			</script>`),
		"GET /console": htmlPage(`<script>
			console.log("hello", 42, true);
			console.error("bad thing");
			setTimeout(() => { throw new Error("boom"); }, 0);
			</script>`),
	})

	// The alert blocks parsing; Navigate only returns because the dialog
	// was dismissed automatically.
	b.Navigate(srv.URL + "/alert")
	if d := b.Dialogs(); !slices.Equal(d, []string{"hi"}) {
		t.Errorf("Dialogs() = %q, want [hi]", d)
	}
	if txt := b.Text("#after"); txt != "loaded" {
		t.Errorf("page after the alert: %q, want it fully loaded", txt)
	}

	// Dismissing means confirm answers false and prompt answers null.
	b.Navigate(srv.URL + "/ask")
	if c, p := b.Text("#c"), b.Text("#p"); c != "false" || p != "null" {
		t.Errorf("confirm/prompt returned %q/%q, want false/null", c, p)
	}
	if d := b.Dialogs(); !slices.Equal(d, []string{"hi", "proceed?", "name?"}) {
		t.Errorf("Dialogs() = %q", d)
	}

	b.Navigate(srv.URL + "/console")
	eventually(t, "the uncaught exception", func() bool {
		return hasPrefixed(b.ConsoleMessages(), "exception: ")
	})
	msgs := b.ConsoleMessages()
	for _, want := range []string{"log: hello 42 true", "error: bad thing", "exception: Uncaught Error: boom"} {
		if !slices.Contains(msgs, want) {
			t.Errorf("ConsoleMessages() = %q, missing %q", msgs, want)
		}
	}
}
