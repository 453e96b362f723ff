package store

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestSegmentPlanSearchesByContact: SQLite's plan for a segment with every kind of
// node reads each correlated table by the contact at hand, and the engagement set
// once per query — never a whole table, nor all of a tenant's rows, per contact. A
// consent test that used the tenant's index made audience expansion quadratic.
func TestSegmentPlanSearchesByContact(t *testing.T) {
	db := openMigrated(t, "sqlite:"+t.TempDir()+"/plan.db", Options{})
	now := time.Now()
	n := &SegNode{Op: SegAnd, Kids: []*SegNode{
		{Op: SegOr, Kids: []*SegNode{{Op: SegList, ID: "l1"}, {Op: SegTopic, ID: "t1"}}},
		{Op: SegConsent, Kind: "email_opt_in", Value: "news", Now: now},
		{Op: SegNot, Kids: []*SegNode{{Op: SegSuppressed, Value: "marketing"}}},
		{Op: SegOr, Kids: []*SegNode{{Op: SegIndex, Hashes: [][]byte{{1}, {2}}}, {Op: SegEvent, Value: "opened", Since: now.Add(-time.Hour)}}},
	}}
	where, args, err := db.segmentWhere("t1", n)
	if err != nil {
		t.Fatal(err)
	}
	b := &segBuilder{dialect: db.dialect, args: args}
	q := "EXPLAIN QUERY PLAN SELECT c.id FROM contacts c WHERE " + where + " AND c.id > " + b.arg("") + " ORDER BY c.id LIMIT " + b.arg(500)
	rows, err := db.sql.QueryContext(context.Background(), q, b.args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	all := strings.Join(plan, "\n")
	for _, want := range []string{"consents_contact_kind", "list_members", "topic_subscriptions", "contact_index_h", "suppressions", "LIST SUBQUERY"} {
		if !strings.Contains(all, want) {
			t.Errorf("plan does not use %s:\n%s", want, all)
		}
	}
	for _, line := range plan {
		if strings.HasPrefix(line, "SCAN ") || strings.Contains(line, "consents_tenant") || strings.Contains(line, "TEMP B-TREE") {
			t.Errorf("plan step %q reads more than the contact's rows:\n%s", line, all)
		}
	}
}
