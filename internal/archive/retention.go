package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// DefaultDays is how long an entry is kept when no rule says otherwise: seven years.
const DefaultDays = 7*365 + 2

// MaxDays bounds a rule: a hundred years.
const MaxDays = 36525

// Rule is a retention period. A rule with no direction, tag or campaign replaces the
// default. When several rules match an entry the longest period wins: a rule can
// shorten retention only for what it alone names.
type Rule struct {
	ID        string    `json:"id,omitempty"`
	Direction string    `json:"direction,omitempty"`
	Tag       string    `json:"tag,omitempty"`
	Campaign  string    `json:"campaign,omitempty"`
	Days      int       `json:"days"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// Validate names every bad field.
func (r *Rule) Validate() map[string]string {
	bad := map[string]string{}
	if r.Days < 1 || r.Days > MaxDays {
		bad["days"] = fmt.Sprintf("must be between 1 and %d", MaxDays)
	}
	if r.Direction != "" && r.Direction != Inbound && r.Direction != Outbound {
		bad["direction"] = "must be in or out"
	}
	if r.Tag != "" && r.Campaign != "" {
		bad["campaign"] = "a rule names a tag or a campaign, not both"
	}
	return bad
}

// SetRule stores a rule, replacing one with the same criteria.
func (s *Service) SetRule(ctx context.Context, who Actor, r Rule) (*Rule, error) {
	if bad := r.Validate(); len(bad) > 0 {
		return nil, &InvalidError{Fields: bad}
	}
	keys, err := s.keys.Keys(ctx, who.TenantID)
	if err != nil {
		return nil, err
	}
	sr := &store.ArchiveRule{ID: tenant.NewID("arr"), TenantID: who.TenantID, Direction: r.Direction, Days: r.Days, CreatedAt: s.now()}
	label := ""
	if r.Tag != "" {
		sr.TagHash, label = LabelHash(keys, "tag", r.Tag), r.Tag
	}
	if r.Campaign != "" {
		sr.CampaignHash, label = LabelHash(keys, "campaign", r.Campaign), r.Campaign
	}
	if label != "" {
		sr.Label = keys.Data.SealString(label, "archive/rule/"+sr.ID)
	}
	if err := s.db.PutArchiveRule(ctx, sr, s.entry(who, ActionRetention, sr.ID, fmt.Sprintf("set days=%d", r.Days))); err != nil {
		return nil, err
	}
	r.ID, r.CreatedAt = sr.ID, sr.CreatedAt
	return &r, nil
}

// DeleteRule removes a rule.
func (s *Service) DeleteRule(ctx context.Context, who Actor, id string) error {
	return s.db.DeleteArchiveRule(ctx, who.TenantID, id, s.entry(who, ActionRetention, id, "delete"))
}

// Rules lists the tenant's rules, labels opened.
func (s *Service) Rules(ctx context.Context, who Actor) ([]*Rule, error) {
	keys, err := s.keys.Keys(ctx, who.TenantID)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.ArchiveRules(ctx, who.TenantID)
	if err != nil {
		return nil, err
	}
	out := []*Rule{}
	for _, sr := range rows {
		r := &Rule{ID: sr.ID, Direction: sr.Direction, Days: sr.Days, CreatedAt: sr.CreatedAt}
		if sr.Label != nil {
			label, err := keys.Data.OpenString(sr.Label, "archive/rule/"+sr.ID)
			if err != nil {
				return nil, err
			}
			if sr.TagHash != "" {
				r.Tag = label
			} else {
				r.Campaign = label
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// retention decides each entry's period from a tenant's rules.
type retention struct {
	def   int
	rules []*store.ArchiveRule
}

func newRetention(rules []*store.ArchiveRule) *retention {
	r := &retention{def: DefaultDays}
	for _, sr := range rules {
		if sr.Direction == "" && sr.TagHash == "" && sr.CampaignHash == "" {
			r.def = sr.Days
			continue
		}
		r.rules = append(r.rules, sr)
	}
	return r
}

// days is the longest period of the rules matching e, or the default when none does.
func (r *retention) days(e *store.ArchiveEntry) int {
	best := 0
	labels := strings.Fields(e.Labels)
	for _, sr := range r.rules {
		if sr.Direction != "" && sr.Direction != e.Direction {
			continue
		}
		if sr.TagHash != "" && !slices.Contains(labels, "t:"+sr.TagHash) {
			continue
		}
		if sr.CampaignHash != "" && !slices.Contains(labels, "c:"+sr.CampaignHash) {
			continue
		}
		best = max(best, sr.Days)
	}
	if best == 0 {
		return r.def
	}
	return best
}

// shortest is the shortest period any entry can have: older entries are candidates.
func (r *retention) shortest() int {
	d := r.def
	for _, sr := range r.rules {
		d = min(d, sr.Days)
	}
	return d
}

// Hold is a legal hold. Every criterion given must match an entry for it to be held;
// a hold needs at least one.
type Hold struct {
	ID         string    `json:"id,omitempty"`
	Name       string    `json:"name"`
	Since      time.Time `json:"since,omitzero"`
	Until      time.Time `json:"until,omitzero"`
	Address    string    `json:"address,omitempty"` // write-only: kept as a keyed hash
	Query      *Query    `json:"query,omitempty"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
	CreatedBy  string    `json:"created_by,omitempty"`
	ReleasedAt time.Time `json:"released_at,omitzero"`
	ByAddress  bool      `json:"by_address,omitempty"`
}

// Validate names every bad field.
func (h *Hold) Validate() map[string]string {
	bad := map[string]string{}
	if strings.TrimSpace(h.Name) == "" {
		bad["name"] = "is required"
	}
	if h.Since.IsZero() && h.Until.IsZero() && h.Address == "" && h.Query == nil {
		bad["query"] = "a hold needs a date range, an address or a query"
	}
	if !h.Since.IsZero() && !h.Until.IsZero() && !h.Until.After(h.Since) {
		bad["until"] = "must be after since"
	}
	if h.Address != "" && !strings.Contains(h.Address, "@") {
		bad["address"] = "must be a whole email address"
	}
	if h.Query != nil {
		for f, msg := range h.Query.Validate() {
			bad["query."+f] = msg
		}
	}
	return bad
}

// PlaceHold stores a hold; from then on nothing it matches is purged.
func (s *Service) PlaceHold(ctx context.Context, who Actor, h Hold) (*Hold, error) {
	if bad := h.Validate(); len(bad) > 0 {
		return nil, &InvalidError{Fields: bad}
	}
	keys, err := s.keys.Keys(ctx, who.TenantID)
	if err != nil {
		return nil, err
	}
	sh := &store.ArchiveHold{ID: tenant.NewID("ahd"), TenantID: who.TenantID, CreatedAt: s.now(), CreatedBy: who.Principal,
		Since: h.Since, Until: h.Until}
	sh.Name = keys.Data.SealString(h.Name, "archive/hold/"+sh.ID+"/name")
	if h.Address != "" {
		sh.AddressHash = newIndexer(keys).term(fieldAddr, NormalizeAddress(h.Address))
	}
	if h.Query != nil {
		q, _ := json.Marshal(h.Query)
		sh.Query = keys.Data.Seal(q, "archive/hold/"+sh.ID+"/query")
	}
	if err := s.db.InsertArchiveHold(ctx, sh, s.entry(who, ActionHold, sh.ID, "")); err != nil {
		return nil, err
	}
	out := h
	out.ID, out.CreatedAt, out.CreatedBy, out.Address, out.ByAddress = sh.ID, sh.CreatedAt, sh.CreatedBy, "", h.Address != ""
	return &out, nil
}

// ReleaseHold ends a hold.
func (s *Service) ReleaseHold(ctx context.Context, who Actor, id string) error {
	return s.db.ReleaseArchiveHold(ctx, who.TenantID, id, s.now(), s.entry(who, ActionReleaseHold, id, ""))
}

// Holds lists the tenant's holds (released ones too when all is set).
func (s *Service) Holds(ctx context.Context, who Actor, all bool) ([]*Hold, error) {
	keys, err := s.keys.Keys(ctx, who.TenantID)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.ArchiveHolds(ctx, who.TenantID, all)
	if err != nil {
		return nil, err
	}
	out := []*Hold{}
	for _, sh := range rows {
		h, err := openHold(keys, sh)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

func openHold(keys *tenant.Keys, sh *store.ArchiveHold) (*Hold, error) {
	name, err := keys.Data.OpenString(sh.Name, "archive/hold/"+sh.ID+"/name")
	if err != nil {
		return nil, err
	}
	h := &Hold{ID: sh.ID, Name: name, Since: sh.Since, Until: sh.Until, CreatedAt: sh.CreatedAt, CreatedBy: sh.CreatedBy,
		ReleasedAt: sh.ReleasedAt, ByAddress: sh.AddressHash != nil}
	if sh.Query != nil {
		b, err := keys.Data.Open(sh.Query, "archive/hold/"+sh.ID+"/query")
		if err != nil {
			return nil, err
		}
		h.Query = &Query{}
		if err := json.Unmarshal(b, h.Query); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// held collects the ids of entries older than before that one of the holds matches.
func (s *Service) held(ctx context.Context, keys *tenant.Keys, tenantID string, holds []*store.ArchiveHold, before time.Time) (map[string]bool, error) {
	out := map[string]bool{}
	for _, sh := range holds {
		h, err := openHold(keys, sh)
		if err != nil {
			return nil, fmt.Errorf("open hold %s: %w", sh.ID, err)
		}
		q := store.ArchiveQuery{TenantID: tenantID, Since: h.Since, Until: h.Until, Limit: -1}
		if h.Query != nil {
			q.Terms = h.Query.terms(keys)
			q.Since, q.Until = later(q.Since, h.Query.Since), earlier(q.Until, h.Query.Until)
		}
		if sh.AddressHash != nil {
			q.Terms = append(q.Terms, sh.AddressHash)
		}
		q.Until = earlier(q.Until, before)
		if !q.Since.IsZero() && !q.Until.After(q.Since) {
			continue
		}
		if err := s.db.ArchiveEach(ctx, q, func(e *store.ArchiveEntry) error { out[e.ID] = true; return nil }); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func earlier(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// PurgeReport is what one purge of one tenant did.
type PurgeReport struct {
	TenantID string `json:"tenant_id"`
	Purged   int    `json:"purged"`
	Held     int    `json:"held"` // expired but kept by a hold
	SHA256   string `json:"sha256,omitempty"`
}

// purgeBatch bounds one purge transaction.
const purgeBatch = 500

// Purge crypto-shreds the tenant's expired entries that no hold matches, and records
// in the audit trail how many it purged and kept, with SHA-256 over the purged
// entries' digests. Each batch checks in its transaction that no hold was placed
// since the held set was computed, so a hold placed during a purge is never missed.
func (s *Service) Purge(ctx context.Context, who Actor) (*PurgeReport, error) {
	keys, err := s.keys.Keys(ctx, who.TenantID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	rules, err := s.db.ArchiveRules(ctx, who.TenantID)
	if err != nil {
		return nil, err
	}
	ret := newRetention(rules)
	holds, err := s.db.ArchiveHolds(ctx, who.TenantID, false)
	if err != nil {
		return nil, err
	}
	holdIDs := make([]string, len(holds))
	for i, h := range holds {
		holdIDs[i] = h.ID
	}
	before := now.AddDate(0, 0, -ret.shortest())
	held, err := s.held(ctx, keys, who.TenantID, holds, before)
	if err != nil {
		return nil, err
	}
	rep := &PurgeReport{TenantID: who.TenantID}
	var ids []string
	var digests []byte
	err = s.db.ArchiveEach(ctx, store.ArchiveQuery{TenantID: who.TenantID, Until: before, Limit: -1}, func(e *store.ArchiveEntry) error {
		if e.IndexedAt.IsZero() {
			// A hold may name it by its words, which are not indexed yet: it waits
			// for the next run.
			return nil
		}
		if !e.At.AddDate(0, 0, ret.days(e)).After(now) {
			if held[e.ID] {
				rep.Held++
				return nil
			}
			ids = append(ids, e.ID)
			digests = append(digests, e.Digest...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for start := 0; start < len(ids); start += purgeBatch {
		batch := ids[start:min(start+purgeBatch, len(ids))]
		sum := sha256.Sum256(digests[start*32 : (start+len(batch))*32])
		detail := fmt.Sprintf("purged=%d held=%d sha256=%s", len(batch), rep.Held, hex.EncodeToString(sum[:]))
		err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			now, err := tx.ActiveArchiveHoldIDs(ctx, who.TenantID)
			if err != nil {
				return err
			}
			if !slices.Equal(now, holdIDs) {
				return ErrHoldsChanged
			}
			if err := tx.PurgeArchiveEntries(ctx, who.TenantID, batch, s.now()); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, s.entry(who, ActionPurge, "", detail))
		})
		if err != nil {
			return rep, err
		}
		rep.Purged += len(batch)
	}
	all := sha256.Sum256(digests)
	rep.SHA256 = hex.EncodeToString(all[:])
	if len(ids) == 0 {
		// A run that purged nothing is recorded too: the trail shows the job ran.
		err = s.db.AppendAudit(ctx, s.entry(who, ActionPurge, "", fmt.Sprintf("purged=0 held=%d", rep.Held)))
	}
	return rep, err
}

// ErrHoldsChanged stops a purge when a hold was placed or released while it ran.
var ErrHoldsChanged = errors.New("archive holds changed during the purge; run it again")

func (s *Service) entry(who Actor, action, object, detail string) *store.AuditEntry {
	return &store.AuditEntry{At: s.now(), TenantID: who.TenantID, Principal: who.Principal, Action: action, Object: object,
		Result: "ok", Client: who.Client, Detail: detail}
}

// InvalidError lists what is wrong with a request, by field.
type InvalidError struct{ Fields map[string]string }

func (e *InvalidError) Error() string {
	var parts []string
	for f, m := range e.Fields {
		parts = append(parts, f+": "+m)
	}
	slices.Sort(parts)
	return "invalid: " + strings.Join(parts, "; ")
}

func (e *InvalidError) Unwrap() error { return ErrInvalid }
