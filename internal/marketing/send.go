package marketing

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sealpost/sealpost/internal/render"
	"github.com/sealpost/sealpost/internal/store"
)

// SendInput is one marketing message to one contact. Subject, Text and HTML are
// templates: {{name}} inserts a contact field, {{email}} the address,
// {{unsubscribe_url}} and {{preferences_url}} the contact's signed links.
type SendInput struct {
	ContactID string
	ListID    string // the contact must be a confirmed member
	TopicID   string // the contact must be subscribed
	// Kind and Purpose name the consent the message relies on (default
	// email_opt_in for marketing); personalisation may use only the fields a live
	// record of that kind and purpose allows.
	Kind, Purpose       string
	Subject, Text, HTML string
}

// Prepared is a marketing message ready for the pipeline.
type Prepared struct {
	To                  string
	Subject, Text, HTML string
	// Headers are the RFC 8058 pair, to be written into the message (and signed).
	Headers [][2]string
	// ContactID, Kind, Purpose and Fields (the contact fields the message uses) are
	// what delivery checks again when the message's job is claimed (RecordSend).
	ContactID, Kind, Purpose string
	Fields                   []string
}

// linkVars are the template names that are not contact fields.
var linkVars = []string{"email", "unsubscribe_url", "preferences_url"}

// PrepareSend checks everything a marketing send must satisfy for one contact and
// renders the message: the contact is the tenant's, not suppressed for marketing,
// on the list or topic named, covered by a live consent of the kind and purpose,
// and personalised only with fields that consent allows. Every problem is reported
// with its field path. Campaigns call it per recipient at the moment of sending.
func (s *Service) PrepareSend(ctx context.Context, tenantID string, in *SendInput) (*Prepared, error) {
	if in.Kind == "" {
		in.Kind = "email_opt_in"
	}
	if in.Purpose == "" {
		in.Purpose = "marketing"
	}
	c, err := s.GetContact(ctx, tenantID, in.ContactID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalid("Cannot send", []*FieldError{fieldErr("contact", "no such contact")})
	} else if err != nil {
		return nil, err
	}
	var fe []*FieldError
	if !slices.Contains(ConsentKinds, in.Kind) {
		fe = append(fe, fieldErr("marketing.consent.kind", "must be one of "+strings.Join(ConsentKinds, ", ")))
	}
	// A transactional suppression (the address cannot receive: a hard bounce) stops
	// marketing too; a marketing one stops only marketing.
	if scope, reason, err := s.suppressedIn(ctx, tenantID, c.Email, ScopeMarketing, ScopeTransactional); err != nil {
		return nil, err
	} else if scope != "" {
		fe = append(fe, fieldErr("marketing.contact", "the address is suppressed for "+scope+" mail ("+reason+")"))
	}
	if in.ListID != "" {
		ms, err := s.DB.Memberships(ctx, tenantID, c.ID)
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(ms, func(m *store.Membership) bool { return m.ListID == in.ListID && m.Status == "confirmed" }) {
			fe = append(fe, fieldErr("marketing.list", "the contact is not a confirmed member of this list"))
		}
	}
	if in.TopicID != "" {
		subs, err := s.DB.Subscriptions(ctx, tenantID, c.ID)
		if err != nil {
			return nil, err
		}
		if !subs[in.TopicID] {
			fe = append(fe, fieldErr("marketing.topic", "the contact is not subscribed to this topic"))
		}
	}
	live, err := s.LiveConsent(ctx, tenantID, c.ID, in.Kind, in.Purpose)
	if err != nil {
		return nil, err
	}
	if len(live) == 0 {
		fe = append(fe, fieldErr("marketing.consent", fmt.Sprintf("the contact has no live %s consent for %s", in.Kind, in.Purpose)))
	}
	schema, err := s.Schema(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	fields := schemaMap(schema)
	parts := []struct {
		path, src string
		out       *string
		mode      render.Mode
	}{{"subject", in.Subject, nil, render.Text}, {"text", in.Text, nil, render.Text}, {"html", in.HTML, nil, render.HTML}}
	tmpls := make([]*render.Template, len(parts))
	var used []string
	for i, p := range parts {
		if p.src == "" {
			continue
		}
		t, err := render.Parse(p.path, p.src)
		if err != nil {
			fe = append(fe, fieldErr(p.path, "is not a valid template"))
			continue
		}
		tmpls[i] = t
		for _, v := range t.Variables() {
			switch {
			case slices.Contains(linkVars, v):
				continue
			case fields[v] == nil:
				fe = append(fe, fieldErr(p.path+".{{"+v+"}}", "is not a contact field"))
			case len(live) > 0 && !slices.ContainsFunc(live, func(r *store.Consent) bool { return strings.Contains(r.Fields, ","+v+",") }):
				fe = append(fe, fieldErr(p.path+".{{"+v+"}}", "the contact's consent does not allow personalising with this field"))
			}
			if !slices.Contains(used, v) {
				used = append(used, v)
			}
		}
	}
	if err := invalid("Cannot send", fe); err != nil {
		return nil, err
	}
	unsub, err := s.SignLink(ctx, &Link{Purpose: LinkUnsubscribe, TenantID: tenantID, ContactID: c.ID, ListID: in.ListID})
	if err != nil {
		return nil, err
	}
	base := strings.TrimRight(s.BaseURL, "/")
	unsubURL := base + "/u/" + unsub
	data := map[string]any{"email": c.Email, "unsubscribe_url": unsubURL, "preferences_url": unsubURL + "/preferences"}
	for n, v := range c.Fields {
		data[n] = v
	}
	out := &Prepared{To: c.Email, ContactID: c.ID, Kind: in.Kind, Purpose: in.Purpose, Fields: used,
		// RFC 8058 3.1: an HTTPS URI, and the POST body the receiver sends.
		Headers: [][2]string{{"List-Unsubscribe", "<" + unsubURL + ">"}, {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"}}}
	dst := []*string{&out.Subject, &out.Text, &out.HTML}
	for i, t := range tmpls {
		if t == nil {
			continue
		}
		var b strings.Builder
		if err := t.Execute(&b, data, parts[i].mode); err != nil {
			return nil, invalid("Cannot send", []*FieldError{fieldErr(parts[i].path, "a contact field it uses has no value for this contact")})
		}
		*dst[i] = b.String()
	}
	return out, nil
}
