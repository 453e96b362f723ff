package server_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/sealpost/sealpost/internal/browsertest"
	"github.com/sealpost/sealpost/internal/portal/view"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// TestFormEmbedInBrowser puts the embed snippet the API returns on a practice's page
// served from a second loopback origin, in Chromium. From an origin the form allows,
// the frame shows the form and a submission made inside it is accepted and delivered:
// the page token needs no cookie, so a cross-site frame (where third-party cookies are
// blocked or partitioned) works. From an origin it does not allow, frame-ancestors
// keeps the form out of the frame.
func TestFormEmbedInBrowser(t *testing.T) {
	b := browsertest.Start(t) // one browser for both databases: its start is the slow part
	storetest.Each(t, func(t *testing.T, dbURL string) { formEmbedInBrowser(t, b, dbURL) })
}

func formEmbedInBrowser(t *testing.T, b *browsertest.Browser, dbURL string) {
	e := newEnv(t, dbURL, envOptions{})
	var snippet string
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><title>Northside clinic</title><h1 id="site">Northside clinic</h1>%s`, snippet)
	}))
	t.Cleanup(site.Close)
	// localhost is another site than 127.0.0.1, where the portal listens: the frame is
	// cross-site, as on a practice's real website.
	allowed := strings.Replace(site.URL, "127.0.0.1", "localhost", 1)
	def := intakeForm()
	def["title"] = "Embedded intake"
	def["fields"] = []map[string]any{{"name": "full_name", "label": "Full name", "type": "text", "required": true}}
	def["allowed_origins"] = []string{allowed}
	def["submitter_copy"] = nil
	delete(def, "submitter_copy")
	s, out := e.do("POST", "/v1/forms", e.key, def)
	if s != 201 {
		t.Fatalf("create: %d %v", s, out)
	}
	link, formID := out["url"].(string), out["id"].(string)
	snippet = out["embed_html"].(string)
	if !strings.Contains(snippet, `src="`+link+`"`) {
		t.Fatalf("embed snippet %q does not frame %s", snippet, link)
	}
	t.Run("allowed origin", func(t *testing.T) {
		b.Navigate(allowed + "/")
		waitFor(t, b, "#site")
		// A lazy frame loads once it is near the viewport, as for a visitor who
		// scrolls to it; bring it there rather than rely on the viewport's size.
		b.Run(chromedp.Evaluate[chromedp.Void](`document.querySelector("iframe").scrollIntoView()`))
		frame := formFrame(t, b, link)
		waitIn(t, frame, `document.body.innerText`, "Embedded intake")
		time.Sleep(1100 * time.Millisecond) // the form's time to fill
		canary := "Pat" + rand.Text()[:10]
		evalIn(t, frame, `document.getElementById("f-full_name").value = "`+canary+`"; setTimeout(() => document.querySelector("form button").click()); ""`)
		waitIn(t, frame, `(document.getElementById("confirmation") || {}).innerText || ""`, "two working days")
		if got := evalIn(t, frame, `location.pathname`); !strings.HasSuffix(got, "/thanks") {
			t.Fatalf("frame ended at %s", got)
		}
		if c := b.Cookies(link); len(c) != 0 {
			t.Fatalf("the form set cookies: %v", c)
		}
		_, subs := e.do("GET", "/v1/forms/"+formID+"/submissions", e.key, nil)
		if list, _ := subs["submissions"].([]any); len(list) != 1 {
			t.Fatalf("stored submissions: %v", subs)
		}
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			for _, m := range e.rcv.Messages() {
				if mv, err := view.Parse(m.Data, view.Limits{}); err == nil && strings.Contains(mv.Text, canary) {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatal("the submission made in the frame never reached the mailbox")
			}
		}
	})

	t.Run("origin not allowed", func(t *testing.T) {
		b.Navigate(site.URL + "/")
		waitFor(t, b, "#site")
		b.Run(chromedp.Evaluate[chromedp.Void](`document.querySelector("iframe").scrollIntoView()`))
		// The frame is same-site with the portal here, so it stays in the page's
		// process and its frame tree: read what the frame holds from there.
		var text string
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			text = childFrameText(t, b)
			if strings.HasPrefix(text, "chrome-error:") || strings.Contains(text, "Embedded intake") {
				break
			}
		}
		if !strings.HasPrefix(text, "chrome-error:") || strings.Contains(text, "Embedded intake") {
			t.Fatalf("a frame on an origin the form does not allow holds:\n%s", text)
		}
	})
}

// formFrame attaches to the cross-site frame showing link, which Chromium runs as a
// target of its own. The context is left to end with the browser's: cancelling it
// would close the target, which takes the tab with it.
func formFrame(t *testing.T, b *browsertest.Browser, link string) context.Context {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		infos, err := chromedp.Targets(b.Ctx())
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range infos {
			if in.Type == "iframe" && in.URL == link {
				ctx, _ := chromedp.NewContext(b.Ctx(), chromedp.WithTargetID(in.TargetID))
				// The first call attaches, binding the session to its context: it
				// must carry no deadline.
				if err := chromedp.Do(ctx); err != nil {
					t.Fatalf("attaching to the form's frame: %v", err)
				}
				return ctx
			}
		}
	}
	t.Fatalf("the form's frame never loaded; frames: %q", b.Frames())
	return nil
}

// evalIn evaluates a script in a frame, returning a string.
func evalIn(t *testing.T, frame context.Context, js string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(frame, 20*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		t.Fatalf("in the frame: %v", err)
	}
	return s
}

// waitIn waits for a script's string result to contain want.
func waitIn(t *testing.T, frame context.Context, js, want string) {
	t.Helper()
	var got string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(frame, 5*time.Second)
		got, _ = chromedp.Run(ctx, chromedp.Evaluate[string](js))
		cancel()
		if strings.Contains(got, want) {
			return
		}
	}
	t.Fatalf("the frame never showed %q; it shows:\n%s", want, got)
}

// childFrameText is the URL and text of the page's first child frame, or "" while
// the frame is not there yet. The frame may navigate (to its error page) between
// making the isolated world and evaluating in it, which loses the world: that is
// not a failure, the caller asks again.
func childFrameText(t *testing.T, b *browsertest.Browser) string {
	t.Helper()
	var s string
	yes := true
	ctx, cancel := context.WithTimeout(b.Ctx(), 5*time.Second)
	defer cancel()
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		tree, err := chromedp.Call(ctx, cdppage.GetFrameTree, cdp.Empty{})
		if err != nil || len(tree.FrameTree.ChildFrames) == 0 {
			return err
		}
		world, err := chromedp.Call(ctx, cdppage.CreateIsolatedWorld, cdppage.CreateIsolatedWorldParams{FrameID: tree.FrameTree.ChildFrames[0].Frame.ID})
		if err != nil {
			return err
		}
		res, err := chromedp.Call(ctx, runtime.Evaluate, runtime.EvaluateParams{ContextID: world.ExecutionContextID, ReturnByValue: &yes,
			Expression: `location.href + "\n" + (document.body ? document.body.innerText : "")`})
		if err != nil || res.Result == nil {
			return err
		}
		return json.Unmarshal(res.Result.Value, &s)
	}))
	if err != nil {
		t.Logf("reading the child frame (asking again): %v", err)
		return ""
	}
	return s
}
