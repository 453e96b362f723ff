package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"
)

// Counters are the rollups' counts, in column order. Opens and clicks count each
// recipient once per class: the bare name is people, _proxy and _machine are beside it.
var Counters = []string{
	"accepted", "delivered", "deferred", "bounced", "expired", "failed",
	"opened", "opened_proxy", "opened_machine", "clicked", "clicked_proxy", "clicked_machine",
	"unsubscribed", "complained",
	"secured_tls", "secured_pgp", "secured_smime", "secured_portal", "secured_none",
}

var counterIndex = func() map[string]int {
	m := make(map[string]int, len(Counters))
	for i, c := range Counters {
		m[c] = i
	}
	return m
}()

// Dimensions every event is counted under beside the message's own (ReportDim):
// the tenant's total, the recipient's domain and how the delivered copy was secured.
const (
	DimTotal  = ""
	DimDomain = "domain"
	DimMethod = "method"
)

// ReportDim is one group a message counts under: a dimension ("campaign", "tag",
// "from", "subject", "meta:<hashed key>") and a keyed hash of the value. Label, when
// set, is the sealed text a report shows for the value.
type ReportDim struct {
	Dim, Value string
	Label      []byte
}

// rcptGroups is what a recipient's events are counted under.
type rcptGroups struct {
	domain, method string
	dims           []ReportDim
}

// rollupDelta is one counter's increment, or (counter -1) a group's label, kept on
// the Tx until commit.
type rollupDelta struct {
	tenantID, dim, value string
	bucket               int64
	counter              int
	label                []byte
	first                string // for a once-per-recipient counter: the recipient
}

const hourMS = int64(time.Hour / time.Millisecond)

// counterFor names the counter an event increments ("" for none) and whether it counts
// a recipient only once.
func counterFor(e *Event, method string) (string, bool) {
	switch e.Type {
	case "accepted", "delivered", "deferred", "bounced", "expired":
		return e.Type, false
	case "failed", "dropped":
		return "failed", false
	case "opened", "clicked":
		switch e.Class {
		case "human":
			return e.Type, true
		case "proxy":
			return e.Type + "_proxy", true
		default: // a reader we cannot vouch for is not counted as a person
			return e.Type + "_machine", true
		}
	case "unsubscribed", "complained":
		return e.Type, true
	case "secured":
		switch method {
		case "tls", "pgp", "smime", "portal":
			return "secured_" + method, false
		}
		return "secured_none", false
	}
	return "", false
}

// insertReportDims records the groups a new message counts under, and their labels.
func (tx *Tx) insertReportDims(ctx context.Context, m *Message) error {
	// One statement for all of the message's groups (a message has a handful).
	for rest := m.Report; len(rest) > 0; {
		batch := rest[:min(len(rest), reportDimsPerInsert)]
		rest = rest[len(batch):]
		args := make([]any, 0, 3*len(batch))
		for _, d := range batch {
			args = append(args, m.ID, d.Dim, d.Value)
		}
		q := insertRows("INSERT INTO report_dims (message_id, dim, value)", 3, len(batch), "ON CONFLICT DO NOTHING")
		if _, err := tx.exec(ctx, q, args...); err != nil {
			return err
		}
	}
	tx.noteReportLabels(m)
	return nil
}

// reportDimsPerInsert bounds the rows of one INSERT of report groups.
const reportDimsPerInsert = 100

// noteReportLabels queues m's sealed group labels for the commit.
func (tx *Tx) noteReportLabels(m *Message) {
	for _, d := range m.Report {
		if d.Label != nil {
			// Written at commit with the counts: concurrent messages share labels.
			tx.rollups = append(tx.rollups, rollupDelta{tenantID: m.TenantID, dim: d.Dim, value: d.Value, counter: -1, label: d.Label})
		}
	}
}

// rollup notes what events add to the rollups; the counts are written at commit
// (flushRollups). known holds the groups of recipients the caller has in hand.
func (tx *Tx) rollup(ctx context.Context, events []*Event, known map[string]*rcptGroups) error {
	for _, e := range events {
		if e.Sandbox || e.RecipientID == "" {
			continue // sandbox traffic is never mixed into statistics
		}
		if c, _ := counterFor(e, ""); c == "" {
			continue
		}
		g := known[e.RecipientID]
		if g == nil {
			var err error
			if g, err = tx.recipientGroups(ctx, e.RecipientID); err != nil {
				return err
			}
			if known == nil {
				known = map[string]*rcptGroups{}
			}
			known[e.RecipientID] = g
		}
		c, unique := counterFor(e, g.method)
		idx := counterIndex[c]
		at := ms(e.At)
		bucket := at - at%hourMS
		first := ""
		if unique {
			// Counted only if this recipient has not counted here before: decided at
			// commit (flushRollups), in the same sorted pass as the rollups.
			first = e.RecipientID
		}
		add := func(dim, value string) {
			tx.rollups = append(tx.rollups, rollupDelta{tenantID: e.TenantID, dim: dim, value: value, bucket: bucket, counter: idx, first: first})
		}
		add(DimTotal, "")
		add(DimDomain, g.domain)
		add(DimMethod, g.method)
		for _, d := range g.dims {
			add(d.Dim, d.Value)
		}
	}
	return nil
}

func (tx *Tx) recipientGroups(ctx context.Context, recipientID string) (*rcptGroups, error) {
	if g := tx.groups[recipientID]; g != nil {
		return g, nil
	}
	g, _, err := scanGroups(tx.query(ctx, "SELECT r.domain, r.method, d.dim, d.value FROM recipients r LEFT JOIN report_dims d ON d.message_id = r.message_id WHERE r.id = $1", recipientID))
	return g, err
}

// scanGroups reads rows of (domain, method, dim, value), one per group of the
// recipient's message, and says whether there was a row (no row: the recipient is
// counted in the total only).
func scanGroups(rows *sql.Rows, err error) (*rcptGroups, bool, error) {
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var g rcptGroups
	found := false
	for rows.Next() {
		var dim, value sql.NullString
		if err := rows.Scan(&g.domain, &g.method, &dim, &value); err != nil {
			return nil, false, err
		}
		found = true
		if dim.Valid {
			g.dims = append(g.dims, ReportDim{Dim: dim.String, Value: value.String})
		}
	}
	return &g, found, rows.Err()
}

// scanRetiredGroups is scanGroups for a recipient update that retired its job in the
// same statement: each row leads with how many jobs were retired, and the recipient's
// columns are empty when none was (the update did not run).
func scanRetiredGroups(rows *sql.Rows, err error) (g *rcptGroups, found, gone bool, _ error) {
	if err != nil {
		return nil, false, false, err
	}
	defer rows.Close()
	g = &rcptGroups{}
	for rows.Next() {
		var n int
		var domain, method, dim, value sql.NullString
		if err := rows.Scan(&n, &domain, &method, &dim, &value); err != nil {
			return nil, false, false, err
		}
		gone = n > 0
		if domain.Valid {
			found = true
			g.domain, g.method = domain.String, method.String
		}
		if dim.Valid {
			g.dims = append(g.dims, ReportDim{Dim: dim.String, Value: value.String})
		}
	}
	return g, found, gone, rows.Err()
}

// flushRollups writes the transaction's new labels and adds its pending counts to the
// rollups, one row per group and hour. Every transaction writes these rows in one order
// (sorted), so concurrent ones wait for each other but never deadlock.
func (tx *Tx) flushRollups(ctx context.Context) error {
	if len(tx.rollups) == 0 {
		return nil
	}
	type key struct {
		tenantID, dim, value string
		bucket               int64
	}
	var less func(a, b key) bool
	// Once-per-recipient counters: the recipients that have not counted yet count now.
	type firstKey struct {
		recipientID string
		counter     int
	}
	firsts := map[firstKey]bool{}
	for _, d := range tx.rollups {
		if d.first != "" {
			firsts[firstKey{d.first, d.counter}] = false
		}
	}
	fkeys := make([]firstKey, 0, len(firsts))
	for k := range firsts {
		fkeys = append(fkeys, k)
	}
	sort.Slice(fkeys, func(i, j int) bool {
		if fkeys[i].recipientID != fkeys[j].recipientID {
			return fkeys[i].recipientID < fkeys[j].recipientID
		}
		return fkeys[i].counter < fkeys[j].counter
	})
	// One statement for all of them (on PostgreSQL every statement is a round trip):
	// the rows RETURNING names are the ones inserted now, the recipients counting for
	// the first time.
	for rest := fkeys; len(rest) > 0; {
		batch := rest[:min(len(rest), firstsPerInsert)]
		rest = rest[len(batch):]
		args := make([]any, 0, 2*len(batch))
		for _, k := range batch {
			args = append(args, k.recipientID, Counters[k.counter])
		}
		rows, err := tx.query(ctx, insertRows("INSERT INTO report_firsts (recipient_id, counter)", 2, len(batch), "ON CONFLICT DO NOTHING RETURNING recipient_id, counter"), args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id, counter string
			if err := rows.Scan(&id, &counter); err != nil {
				rows.Close()
				return err
			}
			firsts[firstKey{id, counterIndex[counter]}] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	counted := map[key]bool{} // a recipient's first counts once per group, however many events
	sums := map[key][]int64{}
	labels := map[key][]byte{}
	for _, d := range tx.rollups {
		if d.first != "" {
			if !firsts[firstKey{d.first, d.counter}] {
				continue
			}
			ck := key{d.first + "\x00" + d.tenantID + "\x00" + Counters[d.counter], d.dim, d.value, 0}
			if counted[ck] {
				continue
			}
			counted[ck] = true
		}
		k := key{d.tenantID, d.dim, d.value, d.bucket}
		if d.counter < 0 {
			labels[k] = d.label
			continue
		}
		if sums[k] == nil {
			sums[k] = make([]int64, len(Counters))
		}
		sums[k][d.counter]++
	}
	sorted := func(m map[key][]int64) []key {
		keys := make([]key, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return less(keys[i], keys[j]) })
		return keys
	}
	less = func(a, b key) bool {
		if a.tenantID != b.tenantID {
			return a.tenantID < b.tenantID
		}
		if a.dim != b.dim {
			return a.dim < b.dim
		}
		if a.value != b.value {
			return a.value < b.value
		}
		return a.bucket < b.bucket
	}
	labelSums := make(map[key][]int64, len(labels))
	for k := range labels {
		labelSums[k] = nil
	}
	for rest := sorted(labelSums); len(rest) > 0; {
		batch := rest[:min(len(rest), labelsPerInsert)]
		rest = rest[len(batch):]
		args := make([]any, 0, 4*len(batch))
		for _, k := range batch {
			args = append(args, k.tenantID, k.dim, k.value, labels[k])
		}
		// On PostgreSQL with the upsert below: one round trip for both.
		if err := tx.insertLater(ctx, "INSERT INTO report_labels (tenant_id, dim, value, label)", len(batch), "ON CONFLICT DO NOTHING", args...); err != nil {
			return err
		}
	}
	shard := 0
	if tx.dialect == Postgres {
		// #nosec G404 -- spreads writers over rows; nothing depends on it being unpredictable
		shard = rand.IntN(8)
	}
	// Rows go in sorted order, so two transactions lock the rows they share in the same
	// order and cannot deadlock over them.
	for rest := sorted(sums); len(rest) > 0; {
		batch := rest[:min(len(rest), rollupsPerUpsert)]
		rest = rest[len(batch):]
		args := make([]any, 0, (5+len(Counters))*len(batch))
		for _, k := range batch {
			args = append(args, k.tenantID, k.dim, k.value, k.bucket, shard)
			for _, n := range sums[k] {
				args = append(args, n)
			}
		}
		// The commit's webhook jobs and labels, if any wait, go in this statement.
		prefix, waiting := tx.takeLater().parts()
		if _, err := tx.exec(ctx, prefix+insertRowsFrom(rollupHead, 5+len(Counters), len(batch), rollupTail, len(waiting)+1), append(waiting, args...)...); err != nil {
			return err
		}
	}
	tx.rollups = tx.rollups[:0]
	return nil
}

// Rows per statement of flushRollups, within SQLite's limit on variables.
const (
	firstsPerInsert  = 256
	labelsPerInsert  = 128
	rollupsPerUpsert = 20
)

// rollupHead and rollupTail frame a multi-row upsert that adds to the counters.
var rollupHead, rollupTail = func() (string, string) {
	var set []string
	for _, c := range Counters {
		set = append(set, fmt.Sprintf("%s = report_rollups.%s + excluded.%s", c, c, c))
	}
	return "INSERT INTO report_rollups (tenant_id, dim, value, bucket, shard, " + strings.Join(Counters, ", ") + ")",
		"ON CONFLICT (tenant_id, dim, value, bucket, shard) DO UPDATE SET " + strings.Join(set, ", ")
}()

// RollupQuery selects rollups of one tenant and dimension. Rows are summed into steps
// of StepMS milliseconds, counted from OffsetMS (so weeks can start on a Monday).
type RollupQuery struct {
	TenantID, Dim    string
	From, To         time.Time // hours from From's up to (not including) To's
	StepMS, OffsetMS int64
}

// RollupRow is one group value's counts in one step, in the order of Counters.
type RollupRow struct {
	Value  string
	Start  time.Time
	Counts []int64
}

// Rollups sums the rollups q selects per group value and step.
func (db *DB) Rollups(ctx context.Context, q RollupQuery) ([]RollupRow, error) {
	if q.StepMS <= 0 {
		return nil, errors.New("rollup step must be positive")
	}
	sums := make([]string, len(Counters))
	for i, c := range Counters {
		sums[i] = "SUM(" + c + ")"
	}
	from, to := ms(q.From), ms(q.To)
	from -= from % hourMS
	// #nosec G202 -- the column list is the fixed Counters; every value is a placeholder
	query := "SELECT value, (bucket - $4) / $5 AS step, " + strings.Join(sums, ", ") +
		" FROM report_rollups WHERE tenant_id = $1 AND dim = $2 AND bucket >= $3 AND bucket < $6 GROUP BY value, step ORDER BY value, step"
	rows, err := db.sql.QueryContext(ctx, query, q.TenantID, q.Dim, from, q.OffsetMS, q.StepMS, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RollupRow
	for rows.Next() {
		r := RollupRow{Counts: make([]int64, len(Counters))}
		var step int64
		dest := []any{&r.Value, &step}
		for i := range r.Counts {
			dest = append(dest, &r.Counts[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		r.Start = fromMS(step*q.StepMS + q.OffsetMS)
		out = append(out, r)
	}
	return out, rows.Err()
}

// InQueue counts a tenant's deliveries waiting now (not held, not sandbox) per value of
// dim. It reads the queue, which holds only what is still to be delivered.
func (db *DB) InQueue(ctx context.Context, tenantID, dim string) (map[string]int64, error) {
	var q string
	args := []any{tenantID}
	switch dim {
	case DimTotal:
		q = "SELECT '', COUNT(*) FROM deliveries q WHERE q.tenant_id = $1 AND q.held = 0 AND q.sandbox = 0"
	case DimDomain:
		q = "SELECT q.domain, COUNT(*) FROM deliveries q WHERE q.tenant_id = $1 AND q.held = 0 AND q.sandbox = 0 GROUP BY q.domain"
	case DimMethod:
		q = "SELECT r.method, COUNT(*) FROM deliveries q JOIN recipients r ON r.id = q.recipient_id WHERE q.tenant_id = $1 AND q.held = 0 AND q.sandbox = 0 GROUP BY r.method"
	default:
		q = "SELECT d.value, COUNT(*) FROM deliveries q JOIN report_dims d ON d.message_id = q.message_id AND d.dim = $2 WHERE q.tenant_id = $1 AND q.held = 0 AND q.sandbox = 0 GROUP BY d.value"
		args = append(args, dim)
	}
	rows, err := db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var v string
		var n int64
		if err := rows.Scan(&v, &n); err != nil {
			return nil, err
		}
		out[v] = n
	}
	return out, rows.Err()
}

// ReportLabels returns the sealed labels of a tenant's values of dim.
func (db *DB) ReportLabels(ctx context.Context, tenantID, dim string) (map[string][]byte, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT value, label FROM report_labels WHERE tenant_id = $1 AND dim = $2", tenantID, dim)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var v string
		var l []byte
		if err := rows.Scan(&v, &l); err != nil {
			return nil, err
		}
		out[v] = l
	}
	return out, rows.Err()
}

// InsertRollups adds counts straight to the rollups: for generating large datasets in
// benchmarks, where going through events would take hours.
func (tx *Tx) InsertRollups(ctx context.Context, tenantID string, rows []RollupRow, dim string) error {
	for _, r := range rows {
		args := []any{tenantID, dim, r.Value, ms(r.Start), 0}
		for _, n := range r.Counts {
			args = append(args, n)
		}
		if _, err := tx.exec(ctx, insertRows(rollupHead, 5+len(Counters), 1, rollupTail), args...); err != nil {
			return err
		}
	}
	return nil
}

// QueuedSince counts a tenant's live deliveries waiting now (not held, not sandbox)
// and when the oldest of them was queued (zero when none wait): the dashboard's queue.
func (db *DB) QueuedSince(ctx context.Context, tenantID string) (int64, time.Time, error) {
	var n int64
	var oldest *int64
	err := db.sql.QueryRowContext(ctx, "SELECT COUNT(*), MIN(created_at) FROM deliveries WHERE tenant_id = $1 AND held = 0 AND sandbox = 0", tenantID).Scan(&n, &oldest)
	if err != nil || oldest == nil {
		return n, time.Time{}, err
	}
	return n, fromMS(*oldest), nil
}
