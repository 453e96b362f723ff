package campaign

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Report is a campaign's progress and results. Delivery figures (secured by method,
// opens and clicks by class, unsubscribes, complaints over time) are also in
// /v1/stats?group_by=campaign: every message carries the campaign's id as its label.
type Report struct {
	Campaign   string         `json:"campaign"`
	State      string         `json:"state"`
	Recipients map[string]int `json:"recipients"` // pending, sent, skipped
	Skipped    map[string]int `json:"skipped"`    // by reason
	Deliveries map[string]int `json:"deliveries"` // the sent messages by delivery status (suppressed: stopped when claimed)
	Variants   map[string]int `json:"variants,omitempty"`
	// HumanClicks and HumanOpens count recipients, people only; MachineClicks
	// scanners, which never decide anything.
	HumanClicks   map[string]int `json:"human_clicks"`
	MachineClicks map[string]int `json:"machine_clicks"`
	HumanOpens    map[string]int `json:"human_opens"`
	Unsubscribed  int            `json:"unsubscribed"`
	Complained    int            `json:"complained"`
	CTR           float64        `json:"ctr"` // human clickers per delivered message
	Conversions   int            `json:"conversions"`
	Value         int64          `json:"conversion_value"`
	ABWinner      string         `json:"ab_winner,omitempty"`
}

// Report gathers a campaign's figures.
func (s *Service) Report(ctx context.Context, tenantID, id string) (*Report, error) {
	c, err := s.DB.Campaign(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	counts, err := s.DB.CountCampaignRecipients(ctx, id)
	if err != nil {
		return nil, err
	}
	r := &Report{Campaign: id, State: c.State, Recipients: counts.ByStatus, Skipped: counts.ByReason, Variants: counts.ByVariant, ABWinner: c.ABWinner}
	if r.Deliveries, err = s.DB.CampaignRecipientStatuses(ctx, id); err != nil {
		return nil, err
	}
	if r.HumanClicks, err = s.DB.CampaignFirsts(ctx, id, "clicked"); err != nil {
		return nil, err
	}
	if r.MachineClicks, err = s.DB.CampaignFirsts(ctx, id, "clicked_machine"); err != nil {
		return nil, err
	}
	if r.HumanOpens, err = s.DB.CampaignFirsts(ctx, id, "opened"); err != nil {
		return nil, err
	}
	feedback, err := s.DB.CampaignEventTotals(ctx, id, time.Time{}, "unsubscribed", "complained")
	if err != nil {
		return nil, err
	}
	r.Unsubscribed, r.Complained = feedback["unsubscribed"], feedback["complained"]
	if d := r.Deliveries["delivered"]; d > 0 {
		r.CTR = float64(sum(r.HumanClicks)) / float64(d)
	}
	if r.Conversions, r.Value, err = s.DB.CampaignConversionTotals(ctx, id); err != nil {
		return nil, err
	}
	return r, nil
}

// ConversionInput is a conversion the tenant reports: optionally the contact, a
// value in minor units (cents), and a key that makes a repeated report count once.
type ConversionInput struct {
	Contact string `json:"contact,omitempty"`
	Value   int64  `json:"value"`
	Key     string `json:"idempotency_key,omitempty"`
}

// AddConversion records a conversion; a repeated key is accepted and not counted again
// (the answer says which).
func (s *Service) AddConversion(ctx context.Context, tenantID, id string, in *ConversionInput, audit *store.AuditEntry) (bool, error) {
	if _, err := s.DB.Campaign(ctx, tenantID, id); err != nil {
		return false, err
	}
	var fe []*FieldError
	if in.Value < 0 {
		fe = append(fe, fieldErr("value", "must not be negative (minor units, such as cents)"))
	}
	if len(in.Key) > 255 {
		fe = append(fe, fieldErr("idempotency_key", "is at most 255 bytes"))
	}
	if in.Contact != "" {
		if _, err := s.DB.Contact(ctx, tenantID, in.Contact); errors.Is(err, store.ErrNotFound) {
			fe = append(fe, fieldErr("contact", "no such contact"))
		} else if err != nil {
			return false, err
		}
	}
	if err := invalid("Invalid conversion", fe); err != nil {
		return false, err
	}
	k, err := s.Tenants.Keys(ctx, tenantID)
	if err != nil {
		return false, err
	}
	cv := &store.CampaignConversion{ID: tenant.NewID("cnv"), CampaignID: id, TenantID: tenantID, ContactID: in.Contact, Value: in.Value, At: s.now()}
	if in.Key != "" {
		cv.KeyHash = k.Hash("campaign-conversion", in.Key)
	}
	err = s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.InsertCampaignConversion(ctx, cv); err != nil {
			return err
		}
		return audited(ctx, tx, audit, tenantID, "system", "campaign.conversion", id, "", cv.At)
	})
	if errors.Is(err, store.ErrConflict) {
		return false, nil
	}
	return err == nil, err
}

// TestSend sends the campaign's content (every variant, with an A/B test) to named
// addresses, before or after approval. Test copies are labelled "campaign-test", not
// with the campaign, so they count in none of its figures; contact fields show as
// [name] since the addresses need not be contacts.
func (s *Service) TestSend(ctx context.Context, tenantID, id string, to []string, p *tenant.Principal) ([]string, error) {
	c, err := s.Get(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	var fe []*FieldError
	if len(to) == 0 || len(to) > 20 {
		fe = append(fe, fieldErr("to", "name 1 to 20 addresses"))
	}
	var addrs []message.Address
	for i, a := range to {
		ad, err := message.ParseAddress(a)
		if err != nil {
			fe = append(fe, fieldErr("to["+strconv.Itoa(i)+"]", "must be an email address"))
			continue
		}
		addrs = append(addrs, ad)
	}
	if err := invalid("Invalid test send", fe); err != nil {
		return nil, err
	}
	from, err := message.ParseAddress(c.From)
	if err != nil {
		return nil, invalid("Invalid test send", []*FieldError{fieldErr("from", "must be an email address")})
	}
	variants := []string{""}
	if c.AB != nil {
		variants = []string{"a", "b"}
	}
	var ids []string
	for _, v := range variants {
		ct := c.Spec.content(v)
		d := &message.Draft{From: from, To: addrs, Subject: "[Test] " + placeholders(ct.Subject), Text: placeholders(ct.Text), HTML: placeholders(ct.HTML)}
		res, err := s.Pipeline.Submit(ctx, &pipeline.Submission{Principal: p, Draft: d, Tags: []string{"campaign-test"}})
		if err != nil {
			return nil, err
		}
		ids = append(ids, res.MessageID)
	}
	if s.Notify != nil {
		s.Notify()
	}
	return ids, nil
}

// placeholders shows each {{name}} as [name]: a test copy carries no contact's data.
func placeholders(src string) string {
	var b strings.Builder
	for {
		i := strings.Index(src, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(src[i:], "}}")
		if j < 0 {
			break
		}
		b.WriteString(src[:i] + "[" + strings.TrimSpace(src[i+2:i+j]) + "]")
		src = src[i+j+2:]
	}
	b.WriteString(src)
	return b.String()
}
