package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/tenant/people"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/app.css
var stylesheet []byte

type renderer struct {
	pages map[string]*template.Template
}

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"join": strings.Join,
	// pct shows a rate (0–1) as a percentage.
	"pct": func(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) + " %" },
	"sum": func(a, b int64) int64 { return a + b },
}

// newRenderer parses every page once at start-up, so a broken template fails there.
func newRenderer() (*renderer, error) {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	r := &renderer{pages: map[string]*template.Template{}}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := t.ParseFS(templateFS, n); err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", n, err)
		}
		r.pages[name] = t
	}
	return r, nil
}

// render writes a whole page or nothing.
func (r *renderer) render(w http.ResponseWriter, status int, name string, v *view) error {
	t, ok := r.pages[name]
	if !ok {
		return fmt.Errorf("web: no page %s", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// view is what every page's template sees.
type view struct {
	Title  string
	Active string
	User   string
	Role   string
	Org    string
	CSRF   string
	Nav    []navItem
	Notice string
	Error  string
	Data   any
	// Scripts and Styles are this origin's files a page adds (its CSP allows them).
	Scripts, Styles []string
	// Refresh is where a page goes on to by itself (meta refresh), or "".
	Refresh string
	// Home is the signed-in person's first page: the overview, or for an instance
	// operator the instance page.
	Home string
}

type navItem struct {
	Path, Label string
	Current     bool
}

// view fills the layout for a signed-in person: the navigation shows only the pages
// their role may open.
func (q *request) view(s *Server, title string) *view {
	v := &view{Title: title, CSRF: csrf(q.tok)}
	if q.sess != nil {
		v.Home = home(q.sess)
	}
	if q.sess == nil || q.sess.Stage != "full" {
		return v
	}
	v.User, v.Role = q.sess.User.Email, q.sess.User.Role
	if people.IsOperator(q.sess.User.Role) {
		v.Org = "instance operator"
	} else if t, err := s.Tenants.Tenant(q.ctx, q.sess.TenantID); err == nil {
		v.Org = t.Name
	}
	for _, p := range s.pagesFor(q) {
		v.Nav = append(v.Nav, navItem{Path: p.path, Label: p.label, Current: strings.HasPrefix(q.r.URL.Path, p.path)})
	}
	return v
}

func (s *Server) css(w http.ResponseWriter, r *http.Request) {
	serveStatic(w, r, "text/css; charset=utf-8", stylesheet)
}

// serveStatic serves an embedded file, cached for an hour and revalidated by its hash.
func serveStatic(w http.ResponseWriter, r *http.Request, contentType string, body []byte) {
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(body)
}
