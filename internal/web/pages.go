package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
	"github.com/sealpost/sealpost/internal/tenant/people"
)

// appPage is a page of the navigation, with the API route whose scope opens it
// (route "" for pages every signed-in person has, people for managing people).
type appPage struct {
	path, label   string
	method, route string
	people        bool
}

var appPages = []appPage{
	{"/app/overview", "Overview", "GET", "/v1/events", false},
	{"/app/messages", "Messages", "GET", "/v1/messages/{id}", false},
	{"/app/domains", "Domains", "GET", "/v1/domains", false},
	{"/app/keys", "API keys", "GET", "/v1/keys", false},
	{"/app/audit", "Audit trail", "GET", "/v1/audit", false},
	{"/app/people", "People", "", "", true},
	{"/app/sessions", "Sessions", "", "", false},
	{"/app/reports", "Reports", "GET", "/v1/stats", false},
	{"/app/compliance/dlp", "DLP findings", "GET", "/v1/reports/dlp", false},
	{"/app/compliance/disclosures", "Disclosures", "GET", "/v1/reports/disclosures", false},
	{"/app/quarantine", "Quarantine", "GET", "/v1/messages", false},
	{"/app/webhooks", "Webhooks", "GET", "/v1/webhooks", false},
	{"/app/recipient-keys", "Recipients' keys", "GET", "/v1/recipient-keys", false},
	{"/app/branding", "Portal branding", "GET", "/v1/portal/settings", false},
	{"/app/policy", "Security policy", "POST", "/v1/policy/preview", false},
	{"/app/templates", "Templates", "GET", "/v1/templates", false},
	{"/app/passkeys", "Passkeys", "", "", false},
	{"/app/journeys", "Journeys", "GET", "/v1/journeys", false},
	// Campaigns.
	{"/app/campaigns", "Campaigns", "GET", "/v1/campaigns", false},
	{"/app/archive", "Archive", "POST", "/v1/archive/search", false},
	{"/app/instance", "Instance", "", "", false},
}

func (s *Server) pagesFor(q *request) []appPage {
	var out []appPage
	for _, p := range appPages {
		if s.mayOpen(q, p) {
			out = append(out, p)
		}
	}
	return out
}

func (s *Server) mayOpen(q *request, p appPage) bool {
	switch {
	case !operatorMay(q.sess, "GET "+p.path):
		return false
	case p.people:
		r, _ := people.Role(q.sess.User.Role)
		return r.People
	case p.route == "":
		return true
	}
	return s.can(q, p.method, p.route)
}

func (s *Server) appRoutes() {
	page := func(path string, h func(*request) error) {
		i := slices.IndexFunc(appPages, func(p appPage) bool { return p.path == path })
		s.handle("GET "+path, people.StageFull, func(q *request) error {
			if i >= 0 && !s.mayOpen(q, appPages[i]) {
				return errForbidden
			}
			return h(q)
		})
	}
	page("/app/overview", s.overview)
	page("/app/messages", s.messages)
	s.handle("GET /app/messages/{id}", people.StageFull, s.message)
	s.handle("POST /app/messages/{id}/revoke", people.StageFull, s.revoke)
	page("/app/domains", s.domains)
	page("/app/keys", s.keys)
	s.handle("POST /app/keys", people.StageFull, s.createKey)
	s.handle("POST /app/keys/{id}/revoke", people.StageFull, s.revokeKey)
	page("/app/audit", s.auditTrail)
	s.complianceRoutes()
	page("/app/people", s.peoplePage)
	s.handle("POST /app/people/invite", people.StageFull, s.invite)
	s.handle("POST /app/people/{id}/disable", people.StageFull, s.changePerson(store.UserChange{Disable: true}, "disabled"))
	s.handle("POST /app/people/{id}/reset-mfa", people.StageFull, s.changePerson(store.UserChange{ResetMFA: true}, "second factor cleared"))
	page("/app/sessions", s.sessions)
	s.handle("POST /app/sessions/{id}/revoke", people.StageFull, s.revokeSession)
	s.reportRoutes()
	s.quarantineRoutes()
	s.webhookRoutes()
	s.recipientKeyRoutes()
	s.brandingRoutes()
	s.policyRoutes()
	s.templateRoutes()
	s.dkimRoutes()
	page("/app/journeys", s.journeysPage)
	s.journeyRoutes()
	// Campaigns.
	page("/app/campaigns", s.campaigns)
	s.campaignRoutes()
	s.archiveRoutes()
	s.instanceRoutes()
}

// Messages: the newest, and a lookup by id.
type messageRow struct {
	ID, From, Subject string
	At                time.Time
	Quarantined       bool
}

func (s *Server) messages(q *request) error {
	if id := q.r.URL.Query().Get("id"); id != "" {
		return q.redirect("/app/messages/" + id)
	}
	ms, err := s.DB.RecentMessages(q.ctx, q.sess.TenantID, 50)
	if err != nil {
		return err
	}
	keys, err := s.Tenants.Keys(q.ctx, q.sess.TenantID)
	if err != nil {
		return err
	}
	var rows []messageRow
	for _, m := range ms {
		row := messageRow{ID: m.ID, At: m.CreatedAt, Quarantined: m.Quarantined}
		if env, err := openEnvelope(keys, m); err == nil {
			row.From, row.Subject = env.From, env.Subject
		}
		rows = append(rows, row)
	}
	v := q.view(s, "Messages")
	v.Data = rows
	return s.pages.render(q.w, http.StatusOK, "messages", v)
}

func openEnvelope(keys *tenant.Keys, m *store.Message) (*pipeline.Envelope, error) {
	b, err := keys.Data.Open(m.Envelope, "message/"+m.ID+"/envelope")
	if err != nil {
		return nil, err
	}
	var env pipeline.Envelope
	return &env, json.Unmarshal(b, &env)
}

// Keys: listed, created (the secret shown once) and revoked through the same
// tenant service the API's key routes call.
type keysData struct {
	Keys      []*store.APIKey
	Scopes    []string
	Secret    string
	CanManage bool
}

func (s *Server) keysPage(q *request, secret string) error {
	ks, err := s.DB.APIKeys(q.ctx, q.sess.TenantID)
	if err != nil {
		return err
	}
	v := q.view(s, "API keys")
	v.Data = keysData{Keys: ks, Scopes: tenant.AllScopes, Secret: secret, CanManage: s.can(q, "POST", "/v1/keys")}
	if secret != "" {
		v.Notice = "The key was created. Copy its secret now: it is shown only once."
	}
	return s.pages.render(q.w, http.StatusOK, "keys", v)
}

func (s *Server) keys(q *request) error { return s.keysPage(q, "") }

func (s *Server) createKey(q *request) error {
	if err := s.require(q, "POST", "/v1/keys"); err != nil {
		return err
	}
	secret, k, err := s.Tenants.CreateKey(q.ctx, q.sess.TenantID, tenant.KeyOptions{Name: q.r.PostFormValue("name"), Scopes: q.r.PostForm["scopes"]})
	var inv *tenant.InvalidError
	if errors.As(err, &inv) {
		ks, lerr := s.DB.APIKeys(q.ctx, q.sess.TenantID)
		if lerr != nil {
			return lerr
		}
		v := q.view(s, "API keys")
		v.Error, v.Data = inv.Msg, keysData{Keys: ks, Scopes: tenant.AllScopes, CanManage: true}
		return s.pages.render(q.w, http.StatusUnprocessableEntity, "keys", v)
	}
	if err != nil {
		return err
	}
	s.record(q, "POST /v1/keys", k.ID, "201")
	return s.keysPage(q, secret)
}

func (s *Server) revokeKey(q *request) error {
	if err := s.require(q, "DELETE", "/v1/keys/{id}"); err != nil {
		return err
	}
	id := q.r.PathValue("id")
	if err := s.Tenants.RevokeKey(q.ctx, q.sess.TenantID, id); err != nil {
		return err
	}
	s.record(q, "DELETE /v1/keys/{id}", id, "204")
	return q.redirect("/app/keys")
}

// Domains: each with its verification state and the DKIM records to publish.
type domainsData struct {
	Domains   []*store.Domain
	DKIM      []*store.DKIMKey
	CanRotate bool
}

func (s *Server) domains(q *request) error { return s.domainsWith(q, http.StatusOK, "", "") }

func (s *Server) domainsWith(q *request, status int, notice, problem string) error {
	ds, err := s.DB.Domains(q.ctx, q.sess.TenantID)
	if err != nil {
		return err
	}
	ks, err := s.DB.DKIMKeys(q.ctx, q.sess.TenantID)
	if err != nil {
		return err
	}
	v := q.view(s, "Domains")
	v.Data = domainsData{Domains: ds, DKIM: ks, CanRotate: s.can(q, "POST", "/v1/domains/{domain}/dkim")}
	v.Notice, v.Error = notice, problem
	return s.pages.render(q.w, status, "domains", v)
}

// Audit trail: the tenant's newest entries.
func (s *Server) auditTrail(q *request) error { return s.showAudit(q, "", "") }

func (s *Server) showAudit(q *request, notice, problem string) error {
	f := store.AuditFilter{TenantID: q.sess.TenantID, Action: q.r.URL.Query().Get("action"), Limit: store.MaxPage}
	es, err := s.DB.AuditEntries(q.ctx, f)
	if err != nil {
		return err
	}
	if len(es) > 200 {
		es = es[len(es)-200:]
	}
	slices.Reverse(es)
	v := q.view(s, "Audit trail")
	v.Notice, v.Error = notice, problem
	v.Data = struct {
		Entries []*store.AuditEntry
		Action  string
	}{es, f.Action}
	return s.pages.render(q.w, http.StatusOK, "audit", v)
}
