package portal

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // logos may be JPEG
	_ "image/png"  // or PNG
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sealpost/sealpost/internal/duration"
	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/render"
	"github.com/sealpost/sealpost/internal/secureline"
	"github.com/sealpost/sealpost/internal/store"
)

// Settings is how a tenant's portal presents itself and how long its copies live.
type Settings struct {
	DisplayName   string                `json:"display_name,omitempty"`
	Logo          string                `json:"logo,omitempty"` // base64 PNG or JPEG
	DefaultExpiry string                `json:"default_expiry,omitempty"`
	MaxExpiry     string                `json:"max_expiry,omitempty"`
	Notification  *NotificationTemplate `json:"notification,omitempty"`
	// ReplyMailbox receives portal replies to messages whose sender cannot receive
	// (a noreply@ From without Reply-To); a Reply-To still comes first.
	ReplyMailbox string `json:"reply_mailbox,omitempty"`
}

// NotificationTemplate is a tenant's own notice. It may use only {{organization}},
// {{link}} and {{expires_at}}: it is sent to recipients who cannot read anything
// secure, so it can say nothing of the message.
type NotificationTemplate struct {
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html,omitempty"`
}

// Limits on settings.
const (
	maxDisplayName = 100
	maxLogoBytes   = 200 << 10
	maxLogoSide    = 1200
)

var noticeVars = map[string]bool{"organization": true, "link": true, "expires_at": true}

// FieldError names the setting that is wrong.
type FieldError = message.FieldError

// Validate checks settings against the server's bounds, naming the field at fault.
func (st *Settings) Validate(maxExpiry time.Duration) []*FieldError {
	var fe []*FieldError
	bad := func(field, detail string) { fe = append(fe, &FieldError{Field: field, Detail: detail, Status: 422}) }
	if n := utf8.RuneCountInString(st.DisplayName); n > maxDisplayName || strings.ContainsAny(st.DisplayName, "\r\n\x00") {
		bad("display_name", fmt.Sprintf("at most %d characters on one line", maxDisplayName))
	}
	if st.Logo != "" {
		if _, _, err := decodeLogo(st.Logo); err != nil {
			bad("logo", err.Error())
		}
	}
	var def, max time.Duration
	parse := func(field, v string) time.Duration {
		if v == "" {
			return 0
		}
		d, err := duration.Parse(v)
		switch {
		case err != nil || d <= 0:
			bad(field, "want a positive duration such as 30d or 72h")
		case d > maxExpiry:
			bad(field, "at most "+duration.Format(maxExpiry)+" (the server's portal.max_expiry)")
		case d < time.Hour:
			bad(field, "at least 1h")
		}
		return d
	}
	if st.ReplyMailbox != "" {
		if a, err := message.ParseAddress(st.ReplyMailbox); err != nil || a.Name != "" || cannotReceive(a.Addr) {
			bad("reply_mailbox", "want one mailbox address that receives mail, e.g. frontdesk@clinic.example")
		}
	}
	def, max = parse("default_expiry", st.DefaultExpiry), parse("max_expiry", st.MaxExpiry)
	if def > 0 && max > 0 && def > max {
		bad("default_expiry", "longer than max_expiry")
	}
	if n := st.Notification; n != nil {
		check := func(field, src string, required bool) {
			if src == "" {
				if required {
					bad("notification."+field, "required")
				}
				return
			}
			t, err := render.Parse(field, src)
			if err != nil {
				bad("notification."+field, err.Error())
				return
			}
			for _, v := range t.Variables() {
				if !noticeVars[v] {
					bad("notification."+field, fmt.Sprintf("unknown variable %q: a notice may use only organization, link and expires_at", v))
				}
			}
			if field == "text" && !strings.Contains(strings.ReplaceAll(src, " ", ""), "{{link}}") {
				bad("notification.text", "must contain {{link}}")
			}
		}
		check("subject", n.Subject, true)
		check("text", n.Text, true)
		check("html", n.HTML, false)
		if strings.ContainsAny(n.Subject, "\r\n") {
			bad("notification.subject", "one line")
		}
	}
	return fe
}

// decodeLogo accepts PNG or JPEG of bounded size; SVG is refused (it can carry script).
func decodeLogo(b64 string) ([]byte, string, error) {
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, "", errors.New("must be standard base64")
	}
	if len(b) > maxLogoBytes {
		return nil, "", fmt.Errorf("at most %d KiB", maxLogoBytes>>10)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil || (format != "png" && format != "jpeg") {
		return nil, "", errors.New("must be a PNG or JPEG image")
	}
	if cfg.Width > maxLogoSide || cfg.Height > maxLogoSide {
		return nil, "", fmt.Errorf("at most %dx%d pixels", maxLogoSide, maxLogoSide)
	}
	return b, "image/" + format, nil
}

// settingsCache keeps parsed settings briefly: every portal page and notice reads them.
type settingsCache struct {
	s  *Service
	mu sync.Mutex
	m  map[string]cachedSettings
}

type cachedSettings struct {
	st     *Settings
	logo   []byte
	ctype  string
	loaded time.Time
}

const settingsTTL = 5 * time.Second

func newSettingsCache(s *Service) *settingsCache {
	return &settingsCache{s: s, m: map[string]cachedSettings{}}
}

func (c *settingsCache) get(ctx context.Context, tenantID string) (cachedSettings, error) {
	now := c.s.now()
	c.mu.Lock()
	e, ok := c.m[tenantID]
	c.mu.Unlock()
	if ok && now.Sub(e.loaded) < settingsTTL {
		return e, nil
	}
	e = cachedSettings{st: &Settings{}, loaded: now}
	doc, err := c.s.db.PortalSettings(ctx, tenantID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return e, err
	default:
		if err := json.Unmarshal(doc, e.st); err != nil {
			return e, err
		}
		if e.st.Logo != "" {
			e.logo, e.ctype, _ = decodeLogo(e.st.Logo)
		}
	}
	c.mu.Lock()
	c.m[tenantID] = e
	c.mu.Unlock()
	return e, nil
}

func (c *settingsCache) forget(tenantID string) {
	c.mu.Lock()
	delete(c.m, tenantID)
	c.mu.Unlock()
}

// Settings returns a tenant's settings (empty when it has none).
func (s *Service) Settings(ctx context.Context, tenantID string) (*Settings, error) {
	e, err := s.settings.get(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	cp := *e.st
	return &cp, nil
}

// PutSettings validates and stores a tenant's settings; audit commits with them. Field
// errors name what is wrong; err is a failure to store.
func (s *Service) PutSettings(ctx context.Context, tenantID string, st *Settings, audit *store.AuditEntry) (fe []*FieldError, err error) {
	if fe := st.Validate(s.cfg.MaxExpiry); len(fe) > 0 {
		return fe, nil
	}
	b, _ := json.Marshal(st)
	err = s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.PutPortalSettings(ctx, tenantID, b, s.now()); err != nil {
			return err
		}
		if audit != nil {
			return tx.AppendAudit(ctx, audit)
		}
		return nil
	})
	s.settings.forget(tenantID)
	return nil, err
}

// bounds are a tenant's default and longest expiry.
func (s *Service) bounds(ctx context.Context, tenantID string) (def, max time.Duration, err error) {
	e, err := s.settings.get(ctx, tenantID)
	if err != nil {
		return 0, 0, err
	}
	def, max = s.cfg.DefaultExpiry, s.cfg.MaxExpiry
	if d, err := duration.Parse(e.st.MaxExpiry); err == nil && d > 0 && d < max {
		max = d
	}
	if d, err := duration.Parse(e.st.DefaultExpiry); err == nil && d > 0 {
		def = d
	}
	return min(def, max), max, nil
}

// Expiry implements secureline.PortalHooks.
func (s *Service) Expiry(ctx context.Context, tenantID string, requested time.Duration) (time.Duration, error) {
	def, max, err := s.bounds(ctx, tenantID)
	if err != nil {
		return 0, err
	}
	if requested == 0 {
		return def, nil
	}
	if requested > max {
		return 0, fmt.Errorf("at most %s for this account", max)
	}
	if requested < time.Hour {
		return 0, errors.New("at least 1h")
	}
	return requested, nil
}

// orgName is how the tenant is named to recipients.
func (s *Service) orgName(ctx context.Context, tenantID string) (string, cachedSettings, error) {
	e, err := s.settings.get(ctx, tenantID)
	if err != nil {
		return "", e, err
	}
	if e.st.DisplayName != "" {
		return e.st.DisplayName, e, nil
	}
	t, err := s.tenants.Tenant(ctx, tenantID)
	if err != nil {
		return "", e, err
	}
	return t.Name, e, nil
}

// Notification implements secureline.PortalHooks: the tenant's template when it has
// one, otherwise the standard notice.
func (s *Service) Notification(ctx context.Context, n *secureline.Notice) ([]byte, error) {
	org, e, err := s.orgName(ctx, n.TenantID)
	if err != nil {
		return nil, err
	}
	tpl := e.st.Notification
	if tpl == nil {
		return secureline.DefaultNotification(org, n, s.now())
	}
	data := map[string]any{"organization": org, "link": n.Link, "expires_at": n.ExpiresAt.UTC().Format("2 January 2006")}
	exec := func(src string, mode render.Mode) (string, error) {
		if src == "" {
			return "", nil
		}
		t, err := render.Parse("notification", src)
		if err != nil {
			return "", err
		}
		var b strings.Builder
		err = t.Execute(&b, data, mode)
		return b.String(), err
	}
	subject, err := exec(tpl.Subject, render.Text)
	if err != nil {
		return nil, err
	}
	text, err := exec(tpl.Text, render.Text)
	if err != nil {
		return nil, err
	}
	html, err := exec(tpl.HTML, render.HTML)
	if err != nil {
		return nil, err
	}
	return secureline.NoticeMessage(org, n, s.now(), strings.TrimSpace(subject), text, html)
}
