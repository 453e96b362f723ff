package pages

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"net/http"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/portal.css
var stylesheet string

// Template names; each page file defines "content" (and optionally
// "actions") on top of the shared layout and partials.
const (
	pageLanding = "landing.html"
	pageCode    = "code.html"
	pageLocked  = "locked.html"
	pageMessage = "message.html"
	pageGone    = "gone.html"
	pageProblem = "problem.html"
)

// goneTitle is fixed so the Gone page reads the same whatever the caller
// knew about the message.
const goneTitle = "Message not available"

// Renderer holds the parsed templates. It is safe for concurrent use.
type Renderer struct {
	pages map[string]*template.Template
}

// New parses the embedded templates once, so a broken template fails at
// start-up rather than on a reader's request.
func New() (*Renderer, error) {
	base, err := template.New("layout.html").Funcs(funcs()).ParseFS(templateFS, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, fmt.Errorf("pages: parse layout: %w", err)
	}
	r := &Renderer{pages: make(map[string]*template.Template)}
	for _, name := range []string{pageLanding, pageCode, pageLocked, pageMessage, pageGone, pageProblem} {
		t, err := base.Clone()
		if err != nil {
			return nil, fmt.Errorf("pages: clone layout for %s: %w", name, err)
		}
		if _, err := t.ParseFS(templateFS, "templates/"+name); err != nil {
			return nil, fmt.Errorf("pages: parse %s: %w", name, err)
		}
		r.pages[name] = t
	}
	return r, nil
}

// Render writes the page with the given status and a Content-Type of
// text/html; charset=utf-8, replacing any Content-Type already set. Security
// headers are the caller's. data must be one of this package's page types
// (or a non-nil pointer to one). The page is rendered in full before
// anything is written, so on error the response is untouched and the caller
// can still send its own.
func (r *Renderer) Render(w http.ResponseWriter, status int, data any) error {
	if r == nil || r.pages == nil {
		return errors.New("pages: renderer not initialised")
	}
	// net/http panics on a status it cannot write; refuse it instead.
	if status < 100 || status > 999 {
		return fmt.Errorf("pages: invalid HTTP status %d", status)
	}
	name, view, err := dispatch(data)
	if err != nil {
		return err
	}
	t, ok := r.pages[name]
	if !ok {
		return fmt.Errorf("pages: no template %s", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", view); err != nil {
		return fmt.Errorf("pages: render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("pages: write %s: %w", name, err)
	}
	return nil
}

// dispatch maps a page value to its template and the value the template
// sees. Pointers are accepted for convenience; a nil one is an error.
func dispatch(data any) (string, any, error) {
	switch d := data.(type) {
	case Landing:
		return pageLanding, d, nil
	case CodeEntry:
		return pageCode, d, nil
	case Locked:
		return pageLocked, d, nil
	case Message:
		return pageMessage, d, nil
	case Gone:
		return pageGone, neutralGone(d), nil
	case Problem:
		return pageProblem, d, nil
	case *Landing:
		if d != nil {
			return dispatch(*d)
		}
	case *CodeEntry:
		if d != nil {
			return dispatch(*d)
		}
	case *Locked:
		if d != nil {
			return dispatch(*d)
		}
	case *Message:
		if d != nil {
			return dispatch(*d)
		}
	case *Gone:
		if d != nil {
			return dispatch(*d)
		}
	case *Problem:
		if d != nil {
			return dispatch(*d)
		}
	}
	return "", nil, fmt.Errorf("pages: cannot render %T", data)
}

// neutralGone keeps only the brand: any notice, error or title the caller
// passed could hint at whether the message expired, was withdrawn or never
// existed, and the page must not say.
func neutralGone(g Gone) Gone {
	return Gone{Page: Page{Brand: g.Brand, Title: goneTitle}}
}

// CSS returns the portal stylesheet and a strong ETag derived from its
// content, for serving at /p/static/portal.css with conditional requests.
// The returned slice is the caller's to keep.
func CSS() (body []byte, etag string) {
	sum := sha256.Sum256([]byte(stylesheet))
	return []byte(stylesheet), `"` + hex.EncodeToString(sum[:16]) + `"`
}
