// Package tracking owns open and click tracking: it rewrites a copy's HTML so its links
// carry only opaque signed tokens (targets sealed server-side), serves the pixel and
// the redirects, and tells people from privacy proxies and security scanners.
package tracking

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// KeySource gives a tenant's working keys (tenant.Service).
type KeySource interface {
	Keys(ctx context.Context, tenantID string) (*tenant.Keys, error)
}

// Service rewrites copies for tracking and serves the tracked URLs under BaseURL.
type Service struct {
	db   *store.DB
	keys KeySource
	base string // e.g. https://track.example.org (no trailing slash)
	// portal is the portal's base URL: links to it are never rewritten.
	portal string
	log    *slog.Logger
	now    func() time.Time
}

// New builds a Service. base is the tracking base URL that links and the pixel point to;
// the Handler must be reachable there under /t/. Links to portal (the portal's base
// URL) are never rewritten.
func New(db *store.DB, keys KeySource, base, portal string, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, keys: keys, base: strings.TrimRight(base, "/"), portal: portal, log: log, now: time.Now}
}

// Options say what to track in one copy.
type Options struct {
	Opens, Clicks bool
	// Skip reports links that must keep their address (unsubscribe, portal).
	Skip func(href string) bool
}

const (
	idBytes  = 16
	macBytes = 16
)

// token is the opaque, signed reference a tracked URL carries: the link's random id
// and a MAC under the tenant's key, so a guessed or altered token leads nowhere.
func token(keys *tenant.Keys, id string) string {
	raw, _ := hex.DecodeString(id)
	return base64.RawURLEncoding.EncodeToString(append(raw, mac(keys, id)...))
}

func mac(keys *tenant.Keys, id string) []byte { return keys.Hash("tracking/token", id)[:macBytes] }

// parseToken splits a token into the link id and its MAC, without trusting either.
func parseToken(tok string) (id string, sum []byte, ok bool) {
	// Strict: a token has one spelling, so a changed character never decodes alike.
	raw, err := base64.RawURLEncoding.Strict().DecodeString(tok)
	if err != nil || len(raw) != idBytes+macBytes {
		return "", nil, false
	}
	return hex.EncodeToString(raw[:idBytes]), raw[idBytes:], true
}

// Prepare rewrites one recipient's HTML for tracking, storing its links (targets
// sealed) in tx. It returns the HTML unchanged when nothing is to be tracked.
func (s *Service) Prepare(ctx context.Context, tx *store.Tx, keys *tenant.Keys, tenantID, messageID, recipientID, html string, o Options) (string, error) {
	if !o.Opens && !o.Clicks {
		return html, nil
	}
	now := s.now()
	var links []*store.TrackingLink
	newLink := func(kind, target string) string {
		l := &store.TrackingLink{ID: hex.EncodeToString(seal.RandomBytes(idBytes)), TenantID: tenantID, MessageID: messageID,
			RecipientID: recipientID, Kind: kind, CreatedAt: now}
		if target != "" {
			l.Target = keys.Data.SealString(target, "tracking/"+l.ID)
		}
		links = append(links, l)
		path := "/t/c/"
		if kind == "open" {
			path = "/t/o/"
		}
		return s.base + path + token(keys, l.ID)
	}
	out, err := rewrite(html, o, newLink)
	if err != nil {
		return "", err
	}
	if err := tx.InsertTrackingLinks(ctx, links); err != nil {
		return "", err
	}
	return out, nil
}

// hitData is the sealed detail of an opened or clicked event.
type hitData struct {
	Class  string `json:"class"`
	Reason string `json:"reason,omitempty"`
	Link   string `json:"link_id,omitempty"`
}

// burstWindow is how close together clicks on several links must be to be a scanner's.
const burstWindow = 5 * time.Second

// errInvalid is any token that does not lead anywhere: unknown, altered, malformed.
var errInvalid = errors.New("invalid tracking token")

// Hit records a request for a tracked URL and returns the link's target (clicks), or
// errInvalid. The request is classified and recorded as an opened or clicked event.
func (s *Service) Hit(ctx context.Context, kind, tok string, r *http.Request) (string, error) {
	id, sum, ok := parseToken(tok)
	if !ok {
		return "", errInvalid
	}
	l, err := s.db.TrackingLink(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return "", errInvalid
	}
	if err != nil {
		return "", err
	}
	keys, err := s.keys.Keys(ctx, l.TenantID)
	if err != nil {
		return "", errInvalid // shredded: nothing to show or count
	}
	if !hmac.Equal(sum, mac(keys, l.ID)) || (kind == "open") != (l.Kind == "open") {
		return "", errInvalid
	}
	target := ""
	if l.Kind == "click" {
		if target, err = keys.Data.OpenString(l.Target, "tracking/"+l.ID); err != nil {
			return "", errInvalid
		}
	}
	now := s.now()
	evType := "clicked"
	if l.Kind == "open" {
		evType = "opened"
	}
	err = s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		h, err := tx.HitTrackingLink(ctx, l, now, burstWindow)
		if err != nil {
			return err
		}
		class, reason := Classify(Request{Kind: l.Kind, Method: r.Method, UserAgent: r.UserAgent(), At: now, DeliveredAt: h.DeliveredAt, RecentClicks: h.RecentClicks})
		b, _ := json.Marshal(hitData{Class: class, Reason: reason, Link: l.ID})
		return tx.InsertEvents(ctx, &store.Event{TenantID: l.TenantID, MessageID: l.MessageID, RecipientID: l.RecipientID, Type: evType,
			At: now, Sandbox: h.Sandbox, Class: class, Data: keys.Data.Seal(b, "event/"+l.RecipientID)})
	})
	if err != nil {
		// The reader still gets where they were going; only the count is lost.
		s.log.Warn("record tracking hit", "link", l.ID, "err", err)
	}
	return target, nil
}
