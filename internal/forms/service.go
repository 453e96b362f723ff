package forms

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Config is what the service needs besides its parts.
type Config struct {
	// BaseURL is the portal listener's public base (https://portal.example); hosted
	// pages live under BaseURL + "/f/".
	BaseURL string
	// Consent records marketing authorisations; nil until the marketing capability is
	// wired, and then forms with a consent block cannot be created.
	Consent ConsentRecorder
	// Accepted, if set, is called after a submission's message commits (wakes the worker).
	Accepted func()
}

// Service manages forms and accepts their submissions.
type Service struct {
	db       *store.DB
	tenants  *tenant.Service
	pipeline *pipeline.Pipeline
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
}

// New builds the service.
func New(db *store.DB, tenants *tenant.Service, p *pipeline.Pipeline, cfg Config, log *slog.Logger) *Service {
	if cfg.Accepted == nil {
		cfg.Accepted = func() {}
	}
	return &Service{db: db, tenants: tenants, pipeline: p, cfg: cfg, log: log, now: time.Now}
}

// View is a form as the API and the CLI show it.
type View struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	URL       string      `json:"url"`
	Embed     string      `json:"embed_html"`
	Form      *Definition `json:"definition"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
}

// ErrConsentUnavailable refuses a consent block while nothing can record consent.
var ErrConsentUnavailable = errors.New("consent: no consent recorder is configured on this server, so a consent block would be dropped; remove the block or enable marketing contacts")

// TokenHash is how a URL token is looked up.
func TokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Create validates and stores a form. Field errors name what is wrong; err is a
// failure to store.
func (s *Service) Create(ctx context.Context, tenantID string, d *Definition, audit *store.AuditEntry) (*View, []*FieldError, error) {
	if fe := d.Validate(); len(fe) > 0 {
		return nil, fe, nil
	}
	if d.Consent != nil && s.cfg.Consent == nil {
		return nil, []*FieldError{{Field: "consent", Detail: ErrConsentUnavailable.Error(), Status: 422}}, nil
	}
	from, _ := parseAddr(d.From)
	ok, err := s.tenants.SenderAllowed(ctx, tenantID, from.Domain())
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, []*FieldError{{Field: "from", Detail: "domain is not a verified sender domain of this account", Status: 422}}, nil
	}
	keys, err := s.tenants.Keys(ctx, tenantID)
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	// 256 bits: the URL is the only thing between the page and the world.
	token := base64.RawURLEncoding.EncodeToString(seal.RandomBytes(32))
	f := &store.Form{ID: tenant.NewID("frm"), TenantID: tenantID, Name: d.Name, TokenHash: TokenHash(token), CreatedAt: now, UpdatedAt: now}
	b, _ := json.Marshal(d)
	f.Definition = keys.Data.Seal(b, "form/"+f.ID)
	f.Token = keys.Data.SealString(token, "form/"+f.ID+"/token")
	if audit != nil {
		audit.Object = f.ID
	}
	if err := s.db.CreateForm(ctx, f, audit); err != nil {
		return nil, nil, err
	}
	return s.view(keys, f)
}

func (s *Service) view(keys *tenant.Keys, f *store.Form) (*View, []*FieldError, error) {
	d, err := openDefinition(keys, f)
	if err != nil {
		return nil, nil, err
	}
	token, err := keys.Data.OpenString(f.Token, "form/"+f.ID+"/token")
	if err != nil {
		return nil, nil, err
	}
	u := strings.TrimRight(s.cfg.BaseURL, "/") + "/f/" + token
	embed := fmt.Sprintf(`<iframe src="%s" title="%s" style="width:100%%;min-height:60rem;border:0" loading="lazy"></iframe>`,
		html.EscapeString(u), html.EscapeString(d.Title))
	return &View{ID: f.ID, Name: f.Name, URL: u, Embed: embed, Form: d, CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt}, nil, nil
}

func openDefinition(keys *tenant.Keys, f *store.Form) (*Definition, error) {
	b, err := keys.Data.Open(f.Definition, "form/"+f.ID)
	if err != nil {
		return nil, err
	}
	var d Definition
	return &d, json.Unmarshal(b, &d)
}

// Get shows one of a tenant's forms.
func (s *Service) Get(ctx context.Context, tenantID, id string) (*View, error) {
	f, err := s.db.Form(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	keys, err := s.tenants.Keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	v, _, err := s.view(keys, f)
	return v, err
}

// List shows a page of a tenant's forms after a cursor id.
func (s *Service) List(ctx context.Context, tenantID, after string, limit int) ([]*View, error) {
	fs, err := s.db.Forms(ctx, tenantID, after, limit)
	if err != nil {
		return nil, err
	}
	keys, err := s.tenants.Keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := []*View{}
	for _, f := range fs {
		v, _, err := s.view(keys, f)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Delete removes a form: its URL stops answering and its stored submissions go.
func (s *Service) Delete(ctx context.Context, tenantID, id string, audit *store.AuditEntry) error {
	if audit != nil {
		audit.Object = id
	}
	return s.db.DeleteForm(ctx, tenantID, id, audit)
}

// SubmissionView is a stored submission as the API shows it.
type SubmissionView struct {
	ID           string    `json:"id"`
	FormID       string    `json:"form_id"`
	MessageID    string    `json:"message_id,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	ExpiresAt    time.Time `json:"expires_at"`
	EvidenceHash string    `json:"evidence_hash,omitempty"`
	ConsentID    string    `json:"consent_id,omitempty"`
	// Values are present when the form stores submissions.
	Values []Value `json:"values,omitempty"`
}

// Submissions lists a page of a form's submissions, unsealed for an authorised caller.
func (s *Service) Submissions(ctx context.Context, tenantID, formID, after string, limit int) ([]*SubmissionView, error) {
	if _, err := s.db.Form(ctx, tenantID, formID); err != nil {
		return nil, err
	}
	subs, err := s.db.FormSubmissions(ctx, tenantID, formID, after, limit)
	if err != nil {
		return nil, err
	}
	keys, err := s.tenants.Keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := []*SubmissionView{}
	for _, sb := range subs {
		v := &SubmissionView{ID: sb.ID, FormID: sb.FormID, MessageID: sb.MessageID, CreatedAt: sb.CreatedAt, ExpiresAt: sb.ExpiresAt, ConsentID: sb.ConsentID}
		if sb.EvidenceHash != nil {
			v.EvidenceHash = fmt.Sprintf("%x", sb.EvidenceHash)
		}
		if sb.Content != nil {
			b, err := keys.Data.Open(sb.Content, "form_submission/"+sb.ID)
			if err != nil {
				return nil, err
			}
			if err := json.Unmarshal(b, &v.Values); err != nil {
				return nil, err
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// Sweep deletes stored submissions past their form's retention.
func (s *Service) Sweep(ctx context.Context) (int64, error) {
	return s.db.PurgeFormSubmissions(ctx, s.now())
}

// Run sweeps every interval until ctx ends.
func (s *Service) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = time.Hour
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := s.Sweep(ctx); err != nil {
			s.log.Warn("form retention sweep failed", "err", err)
		} else if n > 0 {
			s.log.Info("form submissions past retention deleted", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
