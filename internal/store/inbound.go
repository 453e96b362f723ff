package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// InboundDomain is a domain a tenant protects with the inbound gateway: its MX points
// at Sealpost, and mail that passes is forwarded to SmartHost.
type InboundDomain struct {
	ID, TenantID, Domain string
	SmartHost            string // host:port of the tenant's mailbox server
	// Actions: "quarantine", "reject" (DMARC only) or "none" (DLP only: do not scan).
	DMARCAction, AttachmentAction, DLPAction string
	CreatedAt                                time.Time
}

// Inbound message statuses.
const (
	InboundQueued      = "queued"      // waiting to be forwarded: the row is the job
	InboundQuarantined = "quarantined" // held for an administrator
	InboundForwarded   = "forwarded"   // the smart host took it; content purged
	InboundDeleted     = "deleted"     // deleted from quarantine; content purged
	InboundFailed      = "failed"      // the smart host refused it for good, or it expired
)

// InboundMessage is one message accepted by the inbound gateway. Envelope, Verdict
// and Content are sealed by the caller; Reasons are codes only.
type InboundMessage struct {
	ID, TenantID, DomainID string
	Status                 string
	Reasons                []string
	Size                   int64
	CreatedAt, UpdatedAt   time.Time
	Envelope, Verdict      []byte
	Content                []byte // nil once forwarded or deleted
	Attempts               int
	NextAttemptAt          time.Time
	LastError              string
}

const inboundDomainCols = "id, tenant_id, domain, smart_host, dmarc_action, attachment_action, dlp_action, created_at"

func scanInboundDomain(row interface{ Scan(...any) error }) (*InboundDomain, error) {
	var d InboundDomain
	var created int64
	if err := row.Scan(&d.ID, &d.TenantID, &d.Domain, &d.SmartHost, &d.DMARCAction, &d.AttachmentAction, &d.DLPAction, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	d.CreatedAt = fromMS(created)
	return &d, nil
}

// AddInboundDomain stores a protected domain; ErrConflict if any tenant has it.
func (db *DB) AddInboundDomain(ctx context.Context, d *InboundDomain) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.exec(ctx, "INSERT INTO inbound_domains ("+inboundDomainCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
			d.ID, d.TenantID, d.Domain, d.SmartHost, d.DMARCAction, d.AttachmentAction, d.DLPAction, ms(d.CreatedAt))
		return conflict(err)
	})
}

// InboundDomainByName finds the protected domain of that (lower-case) name.
func (db *DB) InboundDomainByName(ctx context.Context, domain string) (*InboundDomain, error) {
	return scanInboundDomain(db.queryRow(ctx, "SELECT "+inboundDomainCols+" FROM inbound_domains WHERE domain = $1", domain))
}

// InboundDomain finds a protected domain by id (tenantID "" matches any tenant).
func (db *DB) InboundDomain(ctx context.Context, tenantID, id string) (*InboundDomain, error) {
	return scanInboundDomain(db.queryRow(ctx, "SELECT "+inboundDomainCols+" FROM inbound_domains WHERE id = $1 AND ($2 = '' OR tenant_id = $2)", id, tenantID))
}

// InboundDomains lists a tenant's protected domains.
func (db *DB) InboundDomains(ctx context.Context, tenantID string) ([]*InboundDomain, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+inboundDomainCols+" FROM inbound_domains WHERE tenant_id = $1 ORDER BY domain", tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*InboundDomain
	for rows.Next() {
		d, err := scanInboundDomain(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// DeleteInboundDomain removes a tenant's protected domain. Mail already accepted for
// it is still forwarded or held.
func (db *DB) DeleteInboundDomain(ctx context.Context, tenantID, id string) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "DELETE FROM inbound_domains WHERE id = $1 AND tenant_id = $2", id, tenantID)
		return oneRow(res, err)
	})
}

const inboundCols = "id, tenant_id, domain_id, status, reasons, size, created_at, updated_at, envelope, verdict, content, attempts, next_attempt_at, last_error"

func scanInbound(row interface{ Scan(...any) error }) (*InboundMessage, error) {
	var m InboundMessage
	var reasons string
	var created, updated, next int64
	if err := row.Scan(&m.ID, &m.TenantID, &m.DomainID, &m.Status, &reasons, &m.Size, &created, &updated, &m.Envelope, &m.Verdict, &m.Content,
		&m.Attempts, &next, &m.LastError); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	if reasons != "" {
		m.Reasons = strings.Split(reasons, " ")
	}
	m.CreatedAt, m.UpdatedAt, m.NextAttemptAt = fromMS(created), fromMS(updated), fromMS(next)
	return &m, nil
}

// InsertInboundMessage stores an accepted message: part of the transaction that also
// writes its events (and journal entry), committed before the 250.
func (tx *Tx) InsertInboundMessage(ctx context.Context, m *InboundMessage) error {
	_, err := tx.exec(ctx, "INSERT INTO inbound_messages (id, tenant_id, domain_id, status, reasons, size, created_at, updated_at, envelope, verdict, content, attempts, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10, 0, $11)",
		m.ID, m.TenantID, m.DomainID, m.Status, strings.Join(m.Reasons, " "), m.Size, ms(m.CreatedAt), m.Envelope, m.Verdict, m.Content, ms(m.NextAttemptAt))
	return err
}

// InboundFilter selects a tenant's inbound messages, newest first.
type InboundFilter struct {
	TenantID string
	Status   string // "": any
	Before   string // cursor: ids created before this one's
	Limit    int
}

// InboundMessages lists inbound messages without their content.
func (db *DB) InboundMessages(ctx context.Context, f InboundFilter) ([]*InboundMessage, error) {
	if f.Limit <= 0 || f.Limit > MaxPage {
		return nil, fmt.Errorf("page of %d: between 1 and %d", f.Limit, MaxPage)
	}
	q := "SELECT id, tenant_id, domain_id, status, reasons, size, created_at, updated_at, envelope, verdict, NULL, attempts, next_attempt_at, last_error FROM inbound_messages" +
		" WHERE tenant_id = $1 AND ($2 = '' OR status = $2) AND ($3 = '' OR id < $3) ORDER BY id DESC LIMIT $4"
	rows, err := db.sql.QueryContext(ctx, q, f.TenantID, f.Status, f.Before, f.Limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*InboundMessage
	for rows.Next() {
		m, err := scanInbound(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// InboundMessage finds one of a tenant's inbound messages, content included.
func (db *DB) InboundMessage(ctx context.Context, tenantID, id string) (*InboundMessage, error) {
	return scanInbound(db.queryRow(ctx, "SELECT "+inboundCols+" FROM inbound_messages WHERE id = $1 AND tenant_id = $2", id, tenantID))
}

// ClaimInbound takes up to limit messages due for forwarding. As with delivery jobs,
// the attempt is counted and the next one pushed a lease ahead before anything is
// dialled, so a crash retries once the lease ends.
func (db *DB) ClaimInbound(ctx context.Context, owner string, now time.Time, limit int, lease time.Duration) ([]*InboundMessage, error) {
	lock := ""
	if db.dialect == Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	q := "UPDATE inbound_messages SET attempts = attempts + 1, claimed_by = $1, next_attempt_at = $4" +
		" WHERE id IN (SELECT id FROM inbound_messages WHERE status = 'queued' AND next_attempt_at <= $2 ORDER BY next_attempt_at LIMIT $3" + lock + ")" +
		" RETURNING " + inboundCols
	var out []*InboundMessage
	err := db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		out = out[:0]
		rows, err := tx.query(ctx, q, owner, ms(now), limit, ms(now.Add(lease)))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanInbound(rows)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	return out, err
}

// SetInboundStatus moves a message from one status to another, with the sealed
// envelope it now has (nil: unchanged); the content is purged when the new status is
// final. ErrNotFound if the message is not in status from (someone else acted first).
func (tx *Tx) SetInboundStatus(ctx context.Context, tenantID, id, from, to string, envelope []byte, lastError string, now, next time.Time) error {
	purge := to == InboundForwarded || to == InboundDeleted || to == InboundFailed
	res, err := tx.exec(ctx, "UPDATE inbound_messages SET status = $1, updated_at = $2, next_attempt_at = $3, last_error = $4, claimed_by = '',"+
		" envelope = CASE WHEN $5 THEN $6 ELSE envelope END, content = CASE WHEN $7 THEN NULL ELSE content END"+
		" WHERE id = $8 AND tenant_id = $9 AND status = $10",
		to, ms(now), ms(next), lastError, envelope != nil, nonNil(envelope), purge, id, tenantID, from)
	return oneRow(res, err)
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
