package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Message is one accepted message. Envelope and Content are sealed by the caller.
type Message struct {
	ID, TenantID string
	CreatedAt    time.Time
	FromDomain   string
	Sandbox      bool
	Campaign     string   // a keyed hash of the caller's campaign name; the name is sealed in Envelope
	Tags         []string // keyed hashes of the caller's tags; the tags are sealed in Envelope
	Size         int
	Envelope     []byte
	Content      []byte   // the first sealed piece of the built message; nil once purged
	Chunks       [][]byte // for InsertMessage: the sealed pieces after Content, in order
	DLP          []byte   // JSON findings: categories and counts, never matched text
	Quarantined  bool     // held by policy until an administrator releases or deletes it

	// Report, for InsertMessage, is the groups the message counts under in reports.
	Report []ReportDim
}

// Recipient is one recipient of a message and its current status.
type Recipient struct {
	ID, MessageID, TenantID string
	Kind                    string // to, cc, bcc
	Address                 []byte // sealed
	AddressHash             []byte
	Domain                  string
	Status                  string
	UpdatedAt               time.Time
	Detail                  []byte // sealed JSON of the last outcome
	Method                  string // how this copy is secured: tls, pgp, smime, portal, none; "" until decided
	Security                []byte // sealed JSON: the decision, its reasons and evidence
}

// Event is one entry on a recipient's (or message's) timeline.
type Event struct {
	ID                               int64
	TenantID, MessageID, RecipientID string
	Type                             string
	At                               time.Time
	Sandbox                          bool
	Data                             []byte // sealed JSON
	// Class, on opened and clicked events, is who read or clicked: human, proxy or
	// machine. The rollups count by it, the sunset policy finds human engagement by its
	// column; the timeline carries it inside Data.
	Class string
}

// Job is a queued delivery of one message to one recipient.
type Job struct {
	ID                                  int64
	RecipientID, MessageID, TenantID    string
	Domain                              string
	Sandbox                             bool
	CreatedAt, ExpiresAt, NextAttemptAt time.Time
	ClaimedAt                           time.Time // set by ClaimJobs
	Attempts                            int
	LastError                           string
	// UnconfirmedAttempt, set by ClaimJobs, is an earlier attempt that reached DATA
	// and never had its outcome recorded: the remote server may hold the message.
	UnconfirmedAttempt int
	// Size, set by ClaimJobs, is the message's built size (0: not known here).
	Size int
	// Loaded, set by ClaimJobs for a small message, is what ForDelivery would read.
	Loaded *Loaded
	// ClaimedBy, set by the caller of InsertMessage, inserts the job already claimed
	// by this owner (see deliveryRows): the accepting process delivers it without a
	// claim. ClaimJobs does not set it.
	ClaimedBy string
}

// Loaded is what a delivery attempt reads before it starts: the message, the recipient
// and whether the message belongs to a marketing send.
type Loaded struct {
	Message   *Message
	Recipient *Recipient
	Marketing bool
}

// InsertMessage stores a message, its recipients, one delivery job per recipient that
// has one, and the first events — all inside the caller's transaction.
func (tx *Tx) InsertMessage(ctx context.Context, m *Message, rcpts []*Recipient, jobs []*Job, events []*Event) error {
	tags, _ := json.Marshal(m.Tags)
	if m.Tags == nil {
		tags = []byte("[]")
	}
	dlp := m.DLP
	if dlp == nil {
		dlp = []byte("[]")
	}
	for _, j := range jobs {
		if (j.ClaimedBy != "") != (jobs[0].ClaimedBy != "") {
			return errors.New("a message's jobs are handed over all or none")
		}
	}
	known := make(map[string]*rcptGroups, len(rcpts))
	for _, r := range rcpts {
		known[r.ID] = &rcptGroups{domain: r.Domain, method: r.Method, dims: m.Report}
	}
	msgArgs := []any{m.ID, m.TenantID, ms(m.CreatedAt), m.FromDomain, b2i(m.Sandbox), m.Campaign, string(tags), m.Size, m.Envelope, m.Content, string(dlp), b2i(m.Quarantined)}
	if tx.dialect == Postgres && len(m.Chunks) == 0 && len(events) > 0 && len(events) <= eventsPerInsert && len(m.Report) <= reportDimsPerInsert {
		// The usual message, its recipients, jobs, groups and first events: one
		// statement, where each would be a round trip and a pass through the executor.
		w := tx.takeLater() // what the write has waiting goes in the same statement
		if w == nil {
			w = &withInserts{}
		}
		w.add("INSERT INTO messages ("+messageCols+")", 1, "", msgArgs...)
		args := make([]any, 0, 12*len(rcpts))
		for _, r := range rcpts {
			args = append(args, recipientArgs(r)...)
		}
		w.add("INSERT INTO recipients ("+recipientCols+")", len(rcpts), "", args...)
		cols, args, err := deliveryRows(tx.dialect, jobs, m.Quarantined)
		if err != nil {
			return err
		}
		w.add("INSERT INTO deliveries ("+cols+")", len(jobs), "", args...)
		args = make([]any, 0, 3*len(m.Report))
		for _, d := range m.Report {
			args = append(args, m.ID, d.Dim, d.Value)
		}
		w.add("INSERT INTO report_dims (message_id, dim, value)", len(m.Report), "ON CONFLICT DO NOTHING", args...)
		tx.noteReportLabels(m)
		return tx.insertEventsAfter(ctx, w, events, known)
	}
	if _, err := tx.exec(ctx, "INSERT INTO messages ("+messageCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)", msgArgs...); err != nil {
		return err
	}
	for i, c := range m.Chunks {
		if _, err := tx.exec(ctx, "INSERT INTO message_chunks (message_id, seq, data) VALUES ($1, $2, $3)", m.ID, i+1, c); err != nil {
			return err
		}
	}
	for _, r := range rcpts {
		if _, err := tx.exec(ctx, "INSERT INTO recipients ("+recipientCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)", recipientArgs(r)...); err != nil {
			return err
		}
	}
	for _, j := range jobs {
		cols, args, err := deliveryRows(tx.dialect, []*Job{j}, m.Quarantined)
		if err != nil {
			return err
		}
		q := insertDelivery
		if cols != deliveryInsertCols {
			q = insertDeliveryWithID
		}
		res, err := tx.exec(ctx, q, args...)
		if err != nil {
			return err
		}
		if j.ClaimedBy != "" && tx.dialect == SQLite {
			if j.ID, err = res.LastInsertId(); err != nil {
				return err
			}
		}
	}
	if err := tx.insertReportDims(ctx, m); err != nil {
		return err
	}
	return tx.insertEvents(ctx, events, known)
}

// recipientArgs are r's values for recipientCols.
func recipientArgs(r *Recipient) []any {
	return []any{r.ID, r.MessageID, r.TenantID, r.Kind, r.Address, r.AddressHash, r.Domain, r.Status, ms(r.UpdatedAt), r.Detail, r.Method, r.Security}
}

const deliveryInsertCols = "recipient_id, message_id, tenant_id, domain, sandbox, created_at, expires_at, next_attempt_at, held, attempts, claimed_by"

// The one-row inserts of a job, without and with its id (see deliveryRows): built
// once, not for every accepted message.
var (
	insertDelivery       = insertRowsFrom("INSERT INTO deliveries ("+deliveryInsertCols+")", 11, 1, "", 1)
	insertDeliveryWithID = insertRowsFrom("INSERT INTO deliveries (id, "+deliveryInsertCols+")", 12, 1, "", 1)
)

// deliveryRows are the columns and values that insert jobs. Jobs handed to the
// accepting process (Job.ClaimedBy) go in claimed, as ClaimJobs leaves a job: their
// first attempt counted and NextAttemptAt the lease's end. On PostgreSQL their ids
// come with them (NewJobIDs), as its multi-statement insert cannot return them.
func deliveryRows(d Dialect, jobs []*Job, held bool) (string, []any, error) {
	if len(jobs) == 0 {
		return deliveryInsertCols, nil, nil // a message with no delivery (held, or none asked)
	}
	if held && jobs[0].ClaimedBy != "" {
		return "", nil, errors.New("a held message's jobs cannot be handed over")
	}
	withID := d == Postgres && jobs[0].ClaimedBy != ""
	cols, per := deliveryInsertCols, 11
	if withID {
		cols, per = "id, "+cols, 12
	}
	args := make([]any, 0, per*len(jobs))
	for _, j := range jobs {
		attempts := 0
		if j.ClaimedBy != "" {
			attempts = 1
		}
		if withID {
			if j.ID <= 0 {
				return "", nil, errors.New("a job handed over on PostgreSQL needs its id (NewJobIDs)")
			}
			args = append(args, j.ID)
		}
		args = append(args, j.RecipientID, j.MessageID, j.TenantID, j.Domain, b2i(j.Sandbox), ms(j.CreatedAt), ms(j.ExpiresAt), ms(j.NextAttemptAt), b2i(held), attempts, j.ClaimedBy)
	}
	return cols, args, nil
}

// NewJobIDs takes n job ids from PostgreSQL's sequence, for jobs inserted already
// claimed (Job.ClaimedBy). Ids are taken from the sequence a block at a time and
// handed out from memory, so a message costs no round trip for them; an id taken and
// not used (a stop, a failed write) is a gap, nothing more. On SQLite it returns nil:
// InsertMessage sets the ids.
func (db *DB) NewJobIDs(ctx context.Context, n int) ([]int64, error) {
	if db.dialect != Postgres || n <= 0 {
		return nil, nil
	}
	return db.jobIDs.take(n, func(k int) ([]int64, error) {
		rows, err := db.sql.QueryContext(ctx, "SELECT nextval(pg_get_serial_sequence('deliveries', 'id')) FROM generate_series(1, $1)", k)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		ids := make([]int64, 0, k)
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if len(ids) != k {
			return nil, fmt.Errorf("job ids: %d of %d", len(ids), k)
		}
		return ids, nil
	})
}

// idBlock hands out ids fetched ahead, a block at a time.
type idBlock struct {
	mu    sync.Mutex
	ahead []int64
}

// idsAhead is how many ids one fetch takes beyond what is asked.
const idsAhead = 64

func (b *idBlock) take(n int, fetch func(k int) ([]int64, error)) ([]int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.ahead) < n {
		more, err := fetch(n + idsAhead)
		if err != nil {
			return nil, err
		}
		b.ahead = append(b.ahead, more...)
	}
	out := slices.Clone(b.ahead[:n])
	b.ahead = b.ahead[n:]
	return out, nil
}

// InsertEvents appends events (setting their ids) and, in the same transaction, one
// webhook job per event and subscribed endpoint, and counts them in the report rollups.
func (tx *Tx) InsertEvents(ctx context.Context, events ...*Event) error {
	return tx.insertEvents(ctx, events, nil)
}

// insertEvents is InsertEvents, counting the events in the report rollups; known holds
// the report groups of recipients the caller has in hand.
func (tx *Tx) insertEvents(ctx context.Context, events []*Event, known map[string]*rcptGroups) error {
	return tx.insertEventsAfter(ctx, nil, events, known)
}

// insertEventsAfter is insertEvents with the inserts of with (if any) run by the
// statement that inserts the first events; there must be events.
func (tx *Tx) insertEventsAfter(ctx context.Context, with *withInserts, events []*Event, known map[string]*rcptGroups) error {
	ids := make([]int64, 0, len(events))
	for rest := events; len(rest) > 0; {
		batch := rest[:min(len(rest), eventsPerInsert)]
		rest = rest[len(batch):]
		if err := tx.insertEventRows(ctx, with, batch); err != nil {
			return err
		}
		with = nil
		for _, e := range batch {
			ids = append(ids, e.ID)
		}
	}
	if err := tx.rollup(ctx, events, known); err != nil {
		return err
	}
	tx.enqueueWebhooks(ids)
	return nil
}

// eventsPerInsert bounds the rows of one INSERT of events (8 values a row, within
// SQLite's limit on variables).
const eventsPerInsert = 100

// insertEventRows inserts events with one statement and sets their ids. An INSERT
// assigns ids in the order of its VALUES in both databases, but neither promises the
// order RETURNING reports them in, so the ids are sorted before they are handed out.
func (tx *Tx) insertEventRows(ctx context.Context, with *withInserts, events []*Event) error {
	if with == nil {
		with = tx.takeLater()
	}
	prefix, args := with.parts()
	first := len(args) + 1
	args = slices.Grow(args, 8*len(events))
	for _, e := range events {
		args = append(args, e.TenantID, e.MessageID, e.RecipientID, e.Type, ms(e.At), b2i(e.Sandbox), e.Data, e.Class)
	}
	q := prefix + insertRowsFrom("INSERT INTO events (tenant_id, message_id, recipient_id, type, at, sandbox, data, class)", 8, len(events), "RETURNING id", first)
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	ids := make([]int64, 0, len(events))
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(ids) != len(events) {
		return fmt.Errorf("insert events: %d ids for %d events", len(ids), len(events))
	}
	slices.Sort(ids)
	for i, e := range events {
		e.ID = ids[i]
	}
	return nil
}

const messageCols = "id, tenant_id, created_at, from_domain, sandbox, campaign, tags, size, envelope, content, dlp, quarantined"

// messageRow holds the scan targets for messageCols; one conversion serves every query
// that reads a whole message.
type messageRow struct {
	m                    Message
	created              int64
	sandbox, quarantined int
	tags, dlp            string
}

func (r *messageRow) dest() []any {
	return []any{&r.m.ID, &r.m.TenantID, &r.created, &r.m.FromDomain, &r.sandbox, &r.m.Campaign, &r.tags, &r.m.Size, &r.m.Envelope, &r.m.Content, &r.dlp, &r.quarantined}
}

func (r *messageRow) message() *Message {
	m := r.m
	m.CreatedAt, m.Sandbox, m.DLP, m.Quarantined = fromMS(r.created), r.sandbox == 1, []byte(r.dlp), r.quarantined == 1
	_ = json.Unmarshal([]byte(r.tags), &m.Tags)
	return &m
}

func scanMessage(row interface{ Scan(...any) error }) (*Message, error) {
	var r messageRow
	if err := row.Scan(r.dest()...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	return r.message(), nil
}

// MessageSize returns the size of a message's built content, so the worker can wait for
// room in memory before it loads a large one.
func (db *DB) MessageSize(ctx context.Context, id string) (int, error) {
	var n int
	err := db.queryRow(ctx, "SELECT size FROM messages WHERE id = $1", id).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	return n, err
}

// ContentChunks calls fn with each sealed piece of a message's content after the
// first (Message.Content), in order, holding one piece at a time.
func (db *DB) ContentChunks(ctx context.Context, messageID string, fn func(sealed []byte) error) error {
	return db.sealedPieces(ctx, "SELECT data FROM message_chunks WHERE message_id = $1 ORDER BY seq", messageID, fn)
}

// sealedPieces calls fn with each row's one column, in order, holding one at a time:
// the pieces after the first of a message's or an archive entry's sealed content.
func (db *DB) sealedPieces(ctx context.Context, q, id string, fn func(sealed []byte) error) error {
	rows, err := db.sql.QueryContext(ctx, q, id)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return err
		}
		if err := fn(b); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Message loads a tenant's message. tenantID "" is for internal callers (the worker).
func (db *DB) Message(ctx context.Context, tenantID, id string) (*Message, error) {
	return scanMessage(db.queryRow(ctx, "SELECT "+messageCols+" FROM messages WHERE id = $1 AND ($2 = '' OR tenant_id = $2)", id, tenantID))
}

// MessageEnvelope loads only a message's sealed envelope: what event consumers need,
// without its content (which may be many megabytes). ErrNotFound once deleted.
func (db *DB) MessageEnvelope(ctx context.Context, tenantID, id string) ([]byte, error) {
	var env []byte
	err := db.queryRow(ctx, "SELECT envelope FROM messages WHERE id = $1 AND tenant_id = $2", id, tenantID).Scan(&env)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return env, err
}

const recipientCols = "id, message_id, tenant_id, kind, address, address_hash, domain, status, updated_at, detail, method, security"

// Recipients lists a message's recipients.
func (db *DB) Recipients(ctx context.Context, messageID string) ([]*Recipient, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+recipientCols+" FROM recipients WHERE message_id = $1 ORDER BY id", messageID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Recipient
	for rows.Next() {
		var r recipientRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, err
		}
		out = append(out, r.recipient())
	}
	return out, rows.Err()
}

// ForDelivery loads what a delivery attempt needs in one query: the message, the
// recipient, and whether the message was sent for marketing (its consent is then
// checked again before it leaves). ErrNotFound if either is gone.
func (db *DB) ForDelivery(ctx context.Context, messageID, recipientID string) (*Loaded, error) {
	var l loadedRow
	err := db.queryRow(ctx, forDeliveryQuery+" WHERE m.id = $1 AND r.id = $2", messageID, recipientID).Scan(l.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return l.loaded(), nil
}

// forDeliveryQuery reads a message, one of its recipients and whether the message is
// a marketing send; a WHERE clause picks the rows.
var forDeliveryQuery = "SELECT " + prefixed("m.", messageCols) + ", " + prefixed("r.", recipientCols) +
	", CASE WHEN EXISTS (SELECT 1 FROM marketing_messages mm WHERE mm.message_id = m.id) THEN 1 ELSE 0 END" +
	" FROM messages m JOIN recipients r ON r.message_id = m.id"

// loadedRow holds the scan targets of forDeliveryQuery.
type loadedRow struct {
	m         messageRow
	r         recipientRow
	marketing int
}

func (l *loadedRow) dest() []any {
	return append(append(l.m.dest(), l.r.dest()...), &l.marketing)
}

func (l *loadedRow) loaded() *Loaded {
	return &Loaded{Message: l.m.message(), Recipient: l.r.recipient(), Marketing: l.marketing == 1}
}

// prefixed qualifies each of a list of columns with a table alias.
func prefixed(alias, cols string) string {
	parts := strings.Split(cols, ", ")
	for i, c := range parts {
		parts[i] = alias + c
	}
	return strings.Join(parts, ", ")
}

// recipientRow holds the scan targets for recipientCols.
type recipientRow struct {
	r   Recipient
	upd int64
}

func (r *recipientRow) dest() []any {
	return []any{&r.r.ID, &r.r.MessageID, &r.r.TenantID, &r.r.Kind, &r.r.Address, &r.r.AddressHash, &r.r.Domain, &r.r.Status, &r.upd, &r.r.Detail, &r.r.Method, &r.r.Security}
}

func (r *recipientRow) recipient() *Recipient {
	out := r.r
	out.UpdatedAt = fromMS(r.upd)
	return &out
}

// Recipient loads one recipient.
func (db *DB) Recipient(ctx context.Context, id string) (*Recipient, error) {
	var r recipientRow
	err := db.queryRow(ctx, "SELECT "+recipientCols+" FROM recipients WHERE id = $1", id).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return r.recipient(), nil
}

// SetRecipientStatus records a recipient's latest outcome.
func (tx *Tx) SetRecipientStatus(ctx context.Context, id, status string, at time.Time, detail []byte) error {
	_, err := tx.exec(ctx, "UPDATE recipients SET status = $1, updated_at = $2, detail = $3 WHERE id = $4", status, ms(at), detail, id)
	return err
}

// SetRecipientOutcome records a recipient's latest outcome together with how its copy
// is (to be) secured.
func (tx *Tx) SetRecipientOutcome(ctx context.Context, id, status string, at time.Time, detail []byte, method string, security []byte) error {
	const set = "UPDATE recipients SET status = $1, updated_at = $2, detail = $3, method = $4, security = $5 WHERE id = $6"
	if tx.dialect != Postgres {
		_, err := tx.exec(ctx, set, status, ms(at), detail, method, security, id)
		return err
	}
	// The outcome's events are counted in the report groups of the recipient's domain,
	// new method and message: the same round trip reads them, for this write's rollup.
	var g *rcptGroups
	var found bool
	var err error
	if retire := tx.retire; retire != nil {
		// The job's retirement (RetireJob) rides in this round trip too: the recipient
		// changes only if the job was there to retire, and no job means ErrNotFound,
		// as RetireJob alone would have said.
		tx.retire = nil
		var gone bool
		g, found, gone, err = scanRetiredGroups(tx.query(ctx, "WITH "+retireCTEs(7)+", u AS ("+set+" AND EXISTS (SELECT 1 FROM gone) RETURNING message_id, domain, method) "+
			"SELECT r.n, u.domain, u.method, d.dim, d.value FROM (SELECT count(*) AS n FROM history) r LEFT JOIN u ON true LEFT JOIN report_dims d ON d.message_id = u.message_id",
			append([]any{status, ms(at), detail, method, security, id}, retire...)...))
		if err == nil && !gone {
			err = ErrNotFound
		}
	} else {
		g, found, err = scanGroups(tx.query(ctx, "WITH u AS ("+set+" RETURNING message_id, domain, method) "+
			"SELECT u.domain, u.method, d.dim, d.value FROM u LEFT JOIN report_dims d ON d.message_id = u.message_id", status, ms(at), detail, method, security, id))
	}
	if err != nil {
		return err
	}
	if found {
		if tx.groups == nil {
			tx.groups = map[string]*rcptGroups{}
		}
		tx.groups[id] = g
	}
	return nil
}
