package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// SegNode is a compiled segment filter: the marketing package turns a tenant's filter
// into these typed nodes (field values already reduced to keyed hashes), and only this
// file turns them into SQL, with every value a bound parameter.
type SegNode struct {
	Op     SegOp
	Kids   []*SegNode // and, or, not
	Hashes [][]byte   // index: the contact has at least one of these index hashes
	ID     string     // list, topic
	Kind   string     // consent: record kind
	Value  string     // consent: purpose ("" = any); event: type; suppressed: scope
	Since  time.Time  // event
	Now    time.Time  // consent: the moment at which it must be live
}

// SegOp names a segment node.
type SegOp int

const (
	SegAll SegOp = iota
	SegAnd
	SegOr
	SegNot
	SegIndex
	SegList
	SegTopic
	SegConsent
	SegEvent
	SegSuppressed
)

type segBuilder struct {
	dialect Dialect
	tenant  string
	args    []any
}

func (b *segBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return param(len(b.args))
}

// build writes n's condition on the contact row c; depth is bounded by the compiler.
func (b *segBuilder) build(n *SegNode, out *strings.Builder) error {
	switch n.Op {
	case SegAll:
		out.WriteString("1=1")
	case SegAnd, SegOr:
		if len(n.Kids) == 0 {
			return fmt.Errorf("segment: empty %v", n.Op)
		}
		join := " AND "
		if n.Op == SegOr {
			join = " OR "
		}
		out.WriteString("(")
		for i, k := range n.Kids {
			if i > 0 {
				out.WriteString(join)
			}
			if err := b.build(k, out); err != nil {
				return err
			}
		}
		out.WriteString(")")
	case SegNot:
		if len(n.Kids) != 1 {
			return fmt.Errorf("segment: not takes one node")
		}
		out.WriteString("NOT (")
		if err := b.build(n.Kids[0], out); err != nil {
			return err
		}
		out.WriteString(")")
	case SegIndex:
		if len(n.Hashes) == 0 {
			out.WriteString("1=0")
			return nil
		}
		ph := make([]string, len(n.Hashes))
		for i, h := range n.Hashes {
			ph[i] = b.arg(h)
		}
		out.WriteString("EXISTS (SELECT 1 FROM contact_index ci WHERE ci.tenant_id = c.tenant_id AND ci.contact_id = c.id AND ci.h IN (" + strings.Join(ph, ", ") + "))")
	case SegList:
		out.WriteString("EXISTS (SELECT 1 FROM list_members lm WHERE lm.contact_id = c.id AND lm.list_id = " + b.arg(n.ID) + " AND lm.status = 'confirmed')")
	case SegTopic:
		out.WriteString("EXISTS (SELECT 1 FROM topic_subscriptions ts WHERE ts.contact_id = c.id AND ts.topic_id = " + b.arg(n.ID) + " AND ts.subscribed = 1)")
	case SegConsent:
		out.WriteString("EXISTS (SELECT 1 FROM consents k WHERE k.contact_id = c.id AND k.tenant_id = c.tenant_id AND k.kind = " + b.arg(n.Kind) +
			" AND k.revoked_at IS NULL AND k.expired_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > " + b.arg(ms(n.Now)) + ")")
		if n.Value != "" {
			p := b.arg("," + n.Value + ",")
			fn := "instr(k.purposes, " + p + ")"
			if b.dialect == Postgres {
				fn = "strpos(k.purposes, " + p + ")"
			}
			out.WriteString(" AND " + fn + " > 0")
		}
		out.WriteString(")")
	case SegEvent:
		// Engagement is read from delivery timelines: the recipient rows carry the same
		// keyed address hash as the contact. The set of engaged addresses is found once
		// per query (an uncorrelated IN), not once per contact: events has no index by
		// recipient, and a correlated test scanned it for every contact.
		out.WriteString("c.email_hash IN (SELECT r.address_hash FROM events e JOIN recipients r ON r.id = e.recipient_id WHERE e.tenant_id = " + b.arg(b.tenant) +
			" AND r.tenant_id = " + b.arg(b.tenant) + " AND e.type = " + b.arg(n.Value) + " AND e.at >= " + b.arg(ms(n.Since)) + ")")
	case SegSuppressed:
		out.WriteString("EXISTS (SELECT 1 FROM suppressions s WHERE s.tenant_id = c.tenant_id AND s.email_hash = c.email_hash AND s.scope = " + b.arg(n.Value) + ")")
	default:
		return fmt.Errorf("segment: unknown node %d", n.Op)
	}
	return nil
}

func (db *DB) segmentWhere(tenantID string, n *SegNode) (string, []any, error) {
	b := &segBuilder{dialect: db.dialect, tenant: tenantID}
	var w strings.Builder
	w.WriteString("c.tenant_id = " + b.arg(tenantID) + " AND ")
	if err := b.build(n, &w); err != nil {
		return "", nil, err
	}
	return w.String(), b.args, nil
}

// SegmentContactIDs pages through the ids of a tenant's contacts matching n, after the
// cursor, in id order — so a campaign can expand an audience in batches.
func (db *DB) SegmentContactIDs(ctx context.Context, tenantID string, n *SegNode, afterID string, limit int) ([]string, error) {
	where, args, err := db.segmentWhere(tenantID, n)
	if err != nil {
		return nil, err
	}
	b := &segBuilder{dialect: db.dialect, args: args}
	// #nosec G202 -- where is built by segmentWhere from fixed SQL and placeholders; every value is bound
	q := "SELECT c.id FROM contacts c WHERE " + where + " AND c.id > " + b.arg(afterID) + " ORDER BY c.id LIMIT " + b.arg(limit)
	rows, err := db.sql.QueryContext(ctx, q, b.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// SegmentCount counts a tenant's contacts matching n.
func (db *DB) SegmentCount(ctx context.Context, tenantID string, n *SegNode) (int, error) {
	where, args, err := db.segmentWhere(tenantID, n)
	if err != nil {
		return 0, err
	}
	var c int
	err = db.sql.QueryRowContext(ctx, "SELECT COUNT(*) FROM contacts c WHERE "+where, args...).Scan(&c)
	return c, err
}

// SegmentHas reports whether one contact matches n: the check a send makes for each
// recipient at the moment it sends.
func (db *DB) SegmentHas(ctx context.Context, tenantID, contactID string, n *SegNode) (bool, error) {
	where, args, err := db.segmentWhere(tenantID, n)
	if err != nil {
		return false, err
	}
	b := &segBuilder{dialect: db.dialect, args: args}
	var c int
	err = db.sql.QueryRowContext(ctx, "SELECT COUNT(*) FROM contacts c WHERE "+where+" AND c.id = "+b.arg(contactID), b.args...).Scan(&c)
	return c > 0, err
}
