package report

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// KeySource gives a tenant's working keys (tenant.Service).
type KeySource interface {
	Keys(ctx context.Context, tenantID string) (*tenant.Keys, error)
}

// Service computes reports from the rollups. The API, the CLI and the dashboard all
// call it, so a number means the same wherever it is shown.
type Service struct {
	db   *store.DB
	keys KeySource
	now  func() time.Time
}

// New builds a Service.
func New(db *store.DB, keys KeySource) *Service {
	return &Service{db: db, keys: keys, now: time.Now}
}

// Intervals a query may step by.
var Intervals = []string{"hour", "day", "week"}

// GroupBys a query may group by; "metadata.KEY" groups by one metadata key's values.
var GroupBys = []string{"domain", "campaign", "tag", "from", "subject", "method", "metadata.KEY"}

// MaxRange is the longest span one query may cover.
const MaxRange = 400 * 24 * time.Hour

// Query selects statistics. From and To are rounded down to the hour; To is exclusive.
type Query struct {
	From, To time.Time
	Interval string // hour, day or week (weeks start on Monday, UTC); "" = no series
	GroupBy  string // one of GroupBys; "" = the tenant's total
}

// InvalidError lists what is wrong with a query, field by field.
type InvalidError struct{ Fields map[string]string }

func (e *InvalidError) Error() string {
	var parts []string
	for f, m := range e.Fields {
		parts = append(parts, f+": "+m)
	}
	slices.Sort(parts)
	return "invalid report query: " + strings.Join(parts, "; ")
}

// Counts are one group's counts. Opened and clicked count recipients once, people only;
// the _proxy and _machine counts stand beside them.
type Counts struct {
	Accepted       int64   `json:"accepted"`
	InQueue        *int64  `json:"in_queue,omitempty"` // now, not over the range; totals only
	Delivered      int64   `json:"delivered"`
	Deferred       int64   `json:"deferred"`
	Bounced        int64   `json:"bounced"`
	Expired        int64   `json:"expired"`
	Failed         int64   `json:"failed"`
	Opened         int64   `json:"opened"`
	OpenedProxy    int64   `json:"opened_proxy"`
	OpenedMachine  int64   `json:"opened_machine"`
	Clicked        int64   `json:"clicked"`
	ClickedProxy   int64   `json:"clicked_proxy"`
	ClickedMachine int64   `json:"clicked_machine"`
	Unsubscribed   int64   `json:"unsubscribed"`
	Complained     int64   `json:"complained"`
	Secured        Secured `json:"secured"`
	Rates          Rates   `json:"rates"`
}

// Secured counts delivered copies by how they were secured.
type Secured struct {
	TLS    int64 `json:"tls"`
	PGP    int64 `json:"pgp"`
	SMIME  int64 `json:"smime"`
	Portal int64 `json:"portal"`
	None   int64 `json:"none"`
}

// Rates are fractions (0–1); a rate whose denominator is zero is 0.
type Rates struct {
	Delivery     float64 `json:"delivery"`      // delivered / accepted
	Open         float64 `json:"open"`          // opened / delivered
	ClickThrough float64 `json:"click_through"` // clicked / delivered
	ClickToOpen  float64 `json:"click_to_open"` // clicked / opened
}

// Point is one step of a group's series.
type Point struct {
	Start  time.Time `json:"start"`
	Counts Counts    `json:"counts"`
}

// Group is one value of the grouping: its key (the domain or method, or an opaque
// keyed hash), the label to show, its totals over the range and its series.
type Group struct {
	Key    string  `json:"key"`
	Label  string  `json:"label"`
	Totals Counts  `json:"totals"`
	Series []Point `json:"series,omitempty"`
}

// Result is a statistics report.
type Result struct {
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Interval string    `json:"interval,omitempty"`
	GroupBy  string    `json:"group_by,omitempty"`
	Groups   []Group   `json:"groups"`
}

// Check validates a query, reporting every problem at once.
func (q Query) Check() error {
	bad := map[string]string{}
	if q.From.IsZero() {
		bad["from"] = "required (RFC 3339 time)"
	}
	if q.To.IsZero() {
		bad["to"] = "required (RFC 3339 time)"
	}
	if !q.From.IsZero() && !q.To.IsZero() {
		if !q.To.After(q.From) {
			bad["to"] = "must be after from"
		} else if q.To.Sub(q.From) > MaxRange {
			bad["to"] = fmt.Sprintf("at most %d days after from", int(MaxRange/(24*time.Hour)))
		}
	}
	if q.Interval != "" && !slices.Contains(Intervals, q.Interval) {
		bad["interval"] = "one of " + strings.Join(Intervals, ", ")
	}
	if q.GroupBy != "" && !slices.Contains(GroupBys[:len(GroupBys)-1], q.GroupBy) {
		if k, ok := strings.CutPrefix(q.GroupBy, "metadata."); !ok || k == "" {
			bad["group_by"] = "one of " + strings.Join(GroupBys, ", ")
		}
	}
	if len(bad) > 0 {
		return &InvalidError{Fields: bad}
	}
	return nil
}

// dim is the rollup dimension a query's grouping reads.
func dim(keys *tenant.Keys, groupBy string) string {
	if k, ok := strings.CutPrefix(groupBy, "metadata."); ok {
		return metadataDim(keys, k)
	}
	return groupBy // "" is the total, as in the store
}

const (
	hourMS = int64(time.Hour / time.Millisecond)
	dayMS  = 24 * hourMS
)

// Stats computes a statistics report for one tenant.
func (s *Service) Stats(ctx context.Context, tenantID string, q Query) (*Result, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	keys, err := s.keys.Keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	d := dim(keys, q.GroupBy)
	// Without an interval the whole range is one step.
	from := q.From.UnixMilli() - q.From.UnixMilli()%hourMS
	rq := store.RollupQuery{TenantID: tenantID, Dim: d, From: q.From, To: q.To, StepMS: q.To.UnixMilli() - from + hourMS, OffsetMS: from}
	switch q.Interval {
	case "hour":
		rq.StepMS, rq.OffsetMS = hourMS, 0
	case "day":
		rq.StepMS, rq.OffsetMS = dayMS, 0
	case "week":
		rq.StepMS, rq.OffsetMS = 7*dayMS, 4*dayMS // 1970-01-05 was a Monday
	}
	rows, err := s.db.Rollups(ctx, rq)
	if err != nil {
		return nil, err
	}
	queued, err := s.db.InQueue(ctx, tenantID, d)
	if err != nil {
		return nil, err
	}
	labels := map[string][]byte{}
	if needsLabels(q.GroupBy) {
		if labels, err = s.db.ReportLabels(ctx, tenantID, d); err != nil {
			return nil, err
		}
	}
	res := &Result{From: q.From.UTC(), To: q.To.UTC(), Interval: q.Interval, GroupBy: q.GroupBy, Groups: []Group{}}
	byKey := map[string]int{}
	group := func(key string) *Group {
		i, ok := byKey[key]
		if !ok {
			i = len(res.Groups)
			byKey[key] = i
			res.Groups = append(res.Groups, Group{Key: key, Label: s.label(keys, d, key, labels)})
		}
		return &res.Groups[i]
	}
	for _, r := range rows {
		g := group(r.Value)
		addRaw(&g.Totals, r.Counts)
		if q.Interval != "" {
			var c Counts
			addRaw(&c, r.Counts)
			c.Rates = rates(c)
			g.Series = append(g.Series, Point{Start: r.Start, Counts: c})
		}
	}
	for key, n := range queued {
		g := group(key)
		g.Totals.InQueue = &n
	}
	for i := range res.Groups {
		g := &res.Groups[i]
		if g.Totals.InQueue == nil {
			var zero int64
			g.Totals.InQueue = &zero
		}
		g.Totals.Rates = rates(g.Totals)
	}
	slices.SortFunc(res.Groups, func(a, b Group) int {
		if a.Totals.Accepted != b.Totals.Accepted {
			return int(b.Totals.Accepted - a.Totals.Accepted)
		}
		return strings.Compare(a.Key, b.Key)
	})
	return res, nil
}

func needsLabels(groupBy string) bool {
	switch groupBy {
	case "", "domain", "method":
		return false
	}
	return true
}

func (s *Service) label(keys *tenant.Keys, d, key string, labels map[string][]byte) string {
	switch d {
	case store.DimTotal:
		return "all"
	case store.DimDomain:
		return key
	case store.DimMethod:
		if key == "" {
			return "not yet delivered"
		}
		return key
	}
	sealed, ok := labels[key]
	if !ok {
		return ""
	}
	l, err := keys.Data.OpenString(sealed, labelBinding(d, key))
	if err != nil {
		return ""
	}
	return l
}

// addRaw adds a rollup row (in store.Counters order) to c.
func addRaw(c *Counts, raw []int64) {
	fields := []*int64{&c.Accepted, &c.Delivered, &c.Deferred, &c.Bounced, &c.Expired, &c.Failed,
		&c.Opened, &c.OpenedProxy, &c.OpenedMachine, &c.Clicked, &c.ClickedProxy, &c.ClickedMachine,
		&c.Unsubscribed, &c.Complained,
		&c.Secured.TLS, &c.Secured.PGP, &c.Secured.SMIME, &c.Secured.Portal, &c.Secured.None}
	for i, f := range fields {
		*f += raw[i]
	}
}

func rates(c Counts) Rates {
	div := func(a, b int64) float64 {
		if b == 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	return Rates{Delivery: div(c.Delivered, c.Accepted), Open: div(c.Opened, c.Delivered),
		ClickThrough: div(c.Clicked, c.Delivered), ClickToOpen: div(c.Clicked, c.Opened)}
}
