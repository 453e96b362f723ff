// Package prefs serves a marketing contact's public pages under /u/: the RFC 8058
// one-click unsubscribe, its confirmation page, the preference centre and double
// opt-in confirmation. They are reached by signed links, need no cookie and no
// script, and look like the portal (its stylesheet, its layout).
package prefs

import (
	_ "embed"
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	"github.com/sealpost/sealpost/internal/marketing"
	"github.com/sealpost/sealpost/internal/store"
)

//go:embed page.html
var pageHTML string

var page = template.Must(template.New("page").Parse(pageHTML))

// Handler serves /u/.
type Handler struct {
	Marketing *marketing.Service
	DB        *store.DB
	Log       *slog.Logger
}

type topicView struct {
	ID, Name, Description string
	On                    bool
}

type view struct {
	Kind, Title, Brand, Notice, Action, Prefs string
	Topics                                    []topicView
	Suppressed                                bool
}

// maxForm bounds a form body: a one-click POST is 26 bytes, a preferences form a few
// hundred.
const maxForm = 16 << 10

func (h *Handler) render(w http.ResponseWriter, status int, v *view) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	if err := page.Execute(w, v); err != nil && h.Log != nil {
		h.Log.Warn("page render failed", "err", err)
	}
}

func (h *Handler) invalid(w http.ResponseWriter) {
	h.render(w, http.StatusNotFound, &view{Kind: "invalid", Title: "Link not valid", Brand: "Sealpost"})
}

func (h *Handler) brand(r *http.Request, tenantID string) string {
	if t, err := h.DB.Tenant(r.Context(), tenantID); err == nil {
		return t.Name
	}
	return "Sealpost"
}

// ServeHTTP routes /u/{token}, /u/{token}/preferences and /u/{token}/confirm.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/u/")
	token, action, _ := strings.Cut(rest, "/")
	l, err := h.Marketing.OpenLink(r.Context(), token)
	if err != nil {
		if !store.IsUnavailable(err) {
			h.invalid(w)
			return
		}
		http.Error(w, "temporarily unavailable; try again shortly", http.StatusServiceUnavailable)
		return
	}
	base := "/u/" + token
	v := &view{Brand: h.brand(r, l.TenantID), Action: r.URL.Path, Prefs: base + "/preferences"}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
	}
	switch {
	case action == "" && l.Purpose == marketing.LinkUnsubscribe:
		// RFC 8058 3.2: the POST acts at once, with no cookie and no further step; a GET
		// (what link scanners and previews send) only shows the button.
		if r.Method == http.MethodGet {
			v.Kind, v.Title = "unsubscribe", "Unsubscribe"
			h.render(w, 200, v)
			return
		}
		if err := h.Marketing.Unsubscribe(r.Context(), l, "one_click"); err != nil {
			h.fail(w, err)
			return
		}
		v.Kind, v.Title = "done", "You are unsubscribed"
		h.render(w, 200, v)
	case action == "preferences":
		if r.Method == http.MethodPost {
			on := map[string]bool{}
			for _, id := range r.PostForm["topic"] {
				on[id] = true
			}
			if err := h.Marketing.SetPreferences(r.Context(), l, on); err != nil {
				h.fail(w, err)
				return
			}
			v.Notice = "Your preferences are saved."
		}
		p, err := h.Marketing.GetPreferences(r.Context(), l)
		if err != nil {
			h.fail(w, err)
			return
		}
		v.Kind, v.Title, v.Suppressed = "preferences", "Your email preferences", p.Suppressed
		for _, t := range p.Topics {
			v.Topics = append(v.Topics, topicView{ID: t.ID, Name: t.Name, Description: t.Description, On: p.Subscribed[t.ID]})
		}
		h.render(w, 200, v)
	case action == "confirm" && l.Purpose == marketing.LinkConfirm:
		if r.Method == http.MethodGet {
			v.Kind, v.Title = "confirm", "Confirm your subscription"
			h.render(w, 200, v)
			return
		}
		// The evidence of the confirmation is the click: the link and when it came.
		if err := h.Marketing.ConfirmMembership(r.Context(), l, token+" "+r.Header.Get("Date")); err != nil {
			h.fail(w, err)
			return
		}
		v.Kind, v.Title = "confirmed", "Subscription confirmed"
		h.render(w, 200, v)
	default:
		h.invalid(w)
	}
}

func (h *Handler) fail(w http.ResponseWriter, err error) {
	if h.Log != nil {
		h.Log.Error("marketing page failed", "err", err)
	}
	status := http.StatusInternalServerError
	if store.IsUnavailable(err) {
		status = http.StatusServiceUnavailable
	}
	http.Error(w, "something went wrong; nothing may have changed, try again shortly", status)
}
