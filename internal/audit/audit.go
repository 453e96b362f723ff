// Package audit is the tamper-evident audit trail required by HIPAA 45 CFR 164.312(b).
// Every entry is chained to the one before it by SHA-256, and the head of the chain is
// periodically signed with an Ed25519 key. Exported checkpoints kept outside the
// database let Verify detect even a consistently rebuilt chain.
package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

// ErrEmptyLog is returned by Checkpoint when there is nothing to sign yet.
var ErrEmptyLog = errors.New("audit log is empty")

// Entry is what callers record: ids and outcomes, never message content.
type Entry struct {
	TenantID  string
	Principal string // who: API key id, user, "system"
	Action    string // what: "message.send", "tenant.key.shred", …
	Object    string // on what: a message, tenant or key id
	Result    string // "ok", "denied", "error: …"
	Client    string // from where: remote address
	Detail    string // short non-sensitive context
}

// Signer signs checkpoints.
type Signer struct{ Key ed25519.PrivateKey }

// Public is the key that verifies this signer's checkpoints.
func (s *Signer) Public() ed25519.PublicKey { return s.Key.Public().(ed25519.PublicKey) }

// KeyID names the signer's key.
func (s *Signer) KeyID() string { return KeyID(s.Public()) }

// KeyID is the hex of the first 8 bytes of SHA-256 of the public key.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// Checkpoint is a signed head of the chain.
type Checkpoint struct {
	Seq       int64
	At        time.Time
	Hash      []byte
	KeyID     string
	Signature []byte
	PublicKey ed25519.PublicKey // informational: Verify trusts only the key it is given
}

// signedBytes is what a checkpoint signature covers.
func signedBytes(seq int64, at time.Time, hash []byte) []byte {
	b := []byte("sealpost.audit.checkpoint.v1\x00")
	b = binary.BigEndian.AppendUint64(b, uint64(seq)) // #nosec G115 -- two's-complement bytes by design; verifiers encode the same way
	b = binary.BigEndian.AppendUint64(b, uint64(at.UnixMilli()))
	return append(b, hash...)
}

// Log records entries into the database and signs checkpoints.
type Log struct {
	db     *store.DB
	signer *Signer
	now    func() time.Time
}

// New returns a log over db. signer may be nil if this process never checkpoints.
func New(db *store.DB, signer *Signer) *Log {
	return &Log{db: db, signer: signer, now: time.Now}
}

// Record appends one entry and returns once it is durably committed.
func (l *Log) Record(ctx context.Context, e Entry) error {
	return l.db.AppendAudit(ctx, &store.AuditEntry{
		At: l.now(), TenantID: e.TenantID, Principal: e.Principal, Action: e.Action,
		Object: e.Object, Result: e.Result, Client: e.Client, Detail: e.Detail,
	})
}

// Checkpoint signs and stores the current head. Entries since the previous checkpoint
// are checked first, so a tampered tail is never signed. If the head is already
// checkpointed, that checkpoint is returned.
func (l *Log) Checkpoint(ctx context.Context) (*Checkpoint, error) {
	if l.signer == nil {
		return nil, errors.New("no checkpoint signing key")
	}
	pub := l.signer.Public()
	head, err := l.db.LastAudit(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrEmptyLog
	} else if err != nil {
		return nil, err
	}
	from, prev := int64(1), make([]byte, store.AuditHashSize)
	last, err := l.db.LatestCheckpoint(ctx)
	switch {
	case err == nil:
		cp := fromStore(last, pub)
		if !checkSignature(cp, pub) {
			return nil, fmt.Errorf("stored checkpoint at entry %d does not verify", cp.Seq)
		}
		if last.Seq == head.Seq {
			return cp, nil
		}
		from, prev = last.Seq+1, last.Hash
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	st := chain{want: from, prev: prev, stopAt: head.Seq}
	if err := st.scan(ctx, l.db); err != nil {
		return nil, err
	}
	if st.bad != 0 || st.want != head.Seq+1 {
		return nil, fmt.Errorf("refusing to checkpoint: %s", st.describe(head.Seq))
	}
	at := time.UnixMilli(l.now().UnixMilli()).UTC()
	cp := &Checkpoint{Seq: head.Seq, At: at, Hash: st.prev, KeyID: KeyID(pub), PublicKey: pub}
	cp.Signature = ed25519.Sign(l.signer.Key, signedBytes(cp.Seq, cp.At, cp.Hash))
	err = l.db.InsertCheckpoint(ctx, &store.AuditCheckpoint{Seq: cp.Seq, At: cp.At, Hash: cp.Hash, KeyID: cp.KeyID, Signature: cp.Signature})
	if err != nil {
		// Another process may have sealed the same head first.
		if other, lerr := l.db.LatestCheckpoint(ctx); lerr == nil && other.Seq == cp.Seq {
			return fromStore(other, pub), nil
		}
		return nil, err
	}
	return cp, nil
}

func fromStore(c *store.AuditCheckpoint, pub ed25519.PublicKey) *Checkpoint {
	return &Checkpoint{Seq: c.Seq, At: c.At, Hash: c.Hash, KeyID: c.KeyID, Signature: c.Signature, PublicKey: pub}
}

// exportedEntry is one line of Export.
type exportedEntry struct {
	Seq       int64     `json:"seq"`
	At        time.Time `json:"at"`
	TenantID  string    `json:"tenant_id"`
	Principal string    `json:"principal"`
	Action    string    `json:"action"`
	Object    string    `json:"object"`
	Result    string    `json:"result"`
	Client    string    `json:"client"`
	Detail    string    `json:"detail"`
	PrevHash  string    `json:"prev_hash"`
	Hash      string    `json:"hash"`
}

// Export writes the entries matching f as JSON Lines, oldest first. f.Limit caps the
// total (0: everything).
func (l *Log) Export(ctx context.Context, w io.Writer, f store.AuditFilter) error {
	total, enc := f.Limit, json.NewEncoder(w)
	for n := 0; total <= 0 || n < total; {
		f.Limit = 1000
		if total > 0 {
			f.Limit = min(1000, total-n)
		}
		page, err := l.db.AuditEntries(ctx, f)
		if err != nil {
			return err
		}
		for _, e := range page {
			err := enc.Encode(exportedEntry{e.Seq, e.At, e.TenantID, e.Principal, e.Action, e.Object, e.Result,
				e.Client, e.Detail, hex.EncodeToString(e.PrevHash), hex.EncodeToString(e.Hash)})
			if err != nil {
				return err
			}
			f.AfterSeq = e.Seq
		}
		n += len(page)
		if len(page) < f.Limit {
			break
		}
	}
	return nil
}

// Runner checkpoints a log periodically.
type Runner struct {
	Log    *Log
	Logger *slog.Logger
}

// Run checkpoints every interval until ctx ends.
func (r *Runner) Run(ctx context.Context, every time.Duration) {
	logger := r.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			cp, err := r.Log.Checkpoint(ctx)
			switch {
			case errors.Is(err, ErrEmptyLog) || ctx.Err() != nil:
			case err != nil:
				logger.Error("audit checkpoint failed", "err", err)
			default:
				logger.Debug("audit checkpoint", "seq", cp.Seq, "key_id", cp.KeyID)
			}
		}
	}
}
