package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// PieceSize is the plaintext size of an archive piece when the caller hands the whole
// message (JournalTx); the pipeline journals its own pieces, of the same size.
const PieceSize = 1 << 20

// Prepared is a journal entry whose key, labels and pending description are made
// outside any transaction. Its content is sealed in the accepting transaction one
// piece at a time (Insert, InsertPieces): a large message is never held twice, and
// the transaction does no parsing or indexing; the index job does that later.
type Prepared struct {
	entry     *store.ArchiveEntry
	dk        *seal.DataKey
	raw       []byte
	principal string
}

// ID is the entry's id.
func (p *Prepared) ID() string { return p.entry.ID }

// Prepare makes an entry's key and description for rec. rec.Raw may be nil when the
// caller journals pieces (InsertPieces).
func Prepare(keys *tenant.Keys, rec *Record) (*Prepared, error) {
	if rec.TenantID == "" {
		return nil, errors.New("archive record needs a tenant")
	}
	if rec.Direction != Outbound && rec.Direction != Inbound {
		return nil, errors.New("archive record direction must be in or out")
	}
	at := rec.At
	if at.IsZero() {
		at = time.Now()
	}
	at = time.UnixMilli(at.UnixMilli()).UTC()
	id := tenant.NewID("arc")
	raw := seal.NewDataKeyBytes()
	dk, err := seal.NewDataKey(raw)
	if err != nil {
		return nil, err
	}
	// What only the accepting face knows (envelope recipients, Bcc included, and the
	// caller's labels) is sealed now; the index job adds what it reads in the message.
	pending := Meta{To: normalizeAll(rec.Recipients), Tags: rec.Tags, Campaign: rec.Campaign}
	metaJSON, _ := json.Marshal(pending)
	principal := rec.Principal
	if principal == "" {
		principal = "system"
	}
	return &Prepared{
		entry: &store.ArchiveEntry{
			ID: id, TenantID: rec.TenantID, At: at, Direction: rec.Direction, MessageID: rec.MessageID, Version: 2,
			Size:       int64(len(rec.Raw)),
			Labels:     labels(keys, rec.Tags, rec.Campaign),
			KeyWrapped: keys.Data.Seal(raw, "archive/"+id+"/key"),
			Meta:       dk.Seal(metaJSON, metaBinding(id)),
		},
		dk: dk, raw: rec.Raw, principal: principal,
	}, nil
}

// Insert writes the entry in tx with the whole message Prepare was given.
func (p *Prepared) Insert(ctx context.Context, tx *store.Tx) error {
	if len(p.raw) == 0 {
		return errors.New("archive record needs a message")
	}
	n := (len(p.raw) + PieceSize - 1) / PieceSize
	return p.InsertPieces(ctx, tx, n, int64(len(p.raw)), func(i int, dst []byte) ([]byte, error) {
		return append(dst, p.raw[i*PieceSize:min((i+1)*PieceSize, len(p.raw))]...), nil
	})
}

// InsertPieces writes the entry in tx, sealing its n pieces one at a time under the
// entry's key: piece appends the plaintext of piece i to dst. One buffer of a piece is
// reused for all pieces after the first, so the caller's sealed pieces plus one piece
// is all the memory journaling takes. The entry's digest, over its fields and the
// sealed pieces, goes into the audit chain in the same transaction.
func (p *Prepared) InsertPieces(ctx context.Context, tx *store.Tx, n int, size int64, piece func(i int, dst []byte) ([]byte, error)) error {
	if n < 1 {
		return errors.New("archive record needs a message")
	}
	e := p.entry
	e.Size = size
	h := sha256.New()
	sumPiece(h, e.KeyWrapped)
	var buf []byte
	for i := range n {
		b := pieceBinding(e.ID, i, i == n-1)
		if i == 0 {
			plain, err := piece(0, nil)
			if err != nil {
				return err
			}
			e.Content = p.dk.Seal(plain, b)
			sumPiece(h, e.Content)
			continue
		}
		if buf == nil {
			buf = make([]byte, seal.InPlacePrefix, seal.InPlacePrefix+PieceSize+seal.InPlaceSuffix)
		}
		plain, err := piece(i, buf[:seal.InPlacePrefix])
		if err != nil {
			return err
		}
		sealed := p.dk.SealInPlace(plain, b)
		sumPiece(h, sealed)
		if err := tx.InsertArchiveChunk(ctx, e.ID, i, sealed); err != nil {
			return err
		}
		if cap(sealed) > cap(buf) {
			buf = sealed[:0]
		}
	}
	e.SealedSum = h.Sum(nil)
	e.Digest = Digest(e)
	if err := tx.InsertArchiveEntry(ctx, e, nil); err != nil {
		return err
	}
	return tx.AppendAudit(ctx, &store.AuditEntry{At: e.At, TenantID: e.TenantID, Principal: p.principal, Action: ActionJournal,
		Object: e.ID, Result: "ok", Detail: "sha256=" + hex.EncodeToString(e.Digest) + " sealed=" + hex.EncodeToString(e.SealedSum)})
}

// JournalTx journals one message in the caller's transaction: the call a face makes
// when it accepts mail outside the pipeline.
func JournalTx(ctx context.Context, tx *store.Tx, keys *tenant.Keys, rec *Record) (string, error) {
	p, err := Prepare(keys, rec)
	if err != nil {
		return "", err
	}
	return p.entry.ID, p.Insert(ctx, tx)
}

// Bindings of an entry's sealed values. A message of one piece keeps the binding of
// version 1; the pieces of a longer one are numbered and the last says so, so a piece
// moved, reordered or dropped fails to open.
func pieceBinding(id string, i int, last bool) string {
	switch {
	case i == 0 && last:
		return "archive/" + id + "/content"
	case last:
		return "archive/" + id + "/content/" + strconv.Itoa(i) + "/last"
	}
	return "archive/" + id + "/content/" + strconv.Itoa(i)
}

func metaBinding(id string) string { return "archive/" + id + "/meta" }

// eachPiece opens an entry's pieces in order, calling fn with each plaintext, which is
// only valid during the call — except an entry's only piece (version 1, or a size up
// to PieceSize), which is a fresh slice the caller may keep (openWhole does).
func eachPiece(ctx context.Context, db *store.DB, dk *seal.DataKey, e *store.ArchiveEntry, fn func([]byte) error) error {
	if e.Content == nil {
		return ErrPurged
	}
	if e.Version < 2 {
		plain, err := dk.Open(e.Content, "archive/"+e.ID+"/content")
		if err != nil {
			return err
		}
		return fn(plain)
	}
	if e.Size <= PieceSize {
		// One piece, sealed as the last: no other piece to look for. (Were the size
		// understated, opening it as the last would fail.)
		plain, err := dk.Open(e.Content, pieceBinding(e.ID, 0, true))
		if err != nil {
			return fmt.Errorf("open archive piece 0: %w", err)
		}
		return fn(plain)
	}
	pending, i := e.Content, 0
	var buf []byte
	err := db.ArchiveChunks(ctx, e.ID, func(sealed []byte) error {
		plain, err := dk.OpenAppend(buf[:0], pending, pieceBinding(e.ID, i, false))
		if err != nil {
			return fmt.Errorf("open archive piece %d: %w", i, err)
		}
		if err := fn(plain); err != nil {
			return err
		}
		buf, pending, i = plain, sealed, i+1
		return nil
	})
	if err != nil {
		return err
	}
	plain, err := dk.OpenAppend(buf[:0], pending, pieceBinding(e.ID, i, true))
	if err != nil {
		return fmt.Errorf("open archive piece %d: %w", i, err)
	}
	return fn(plain)
}

// OpenContent returns an entry's message, read from db a piece at a time. e must be
// loaded with its content.
func OpenContent(ctx context.Context, db *store.DB, keys *tenant.Keys, e *store.ArchiveEntry) ([]byte, error) {
	dk, err := open(keys, e)
	if err != nil {
		return nil, err
	}
	return openWhole(ctx, db, dk, e)
}

// openWhole returns an entry's whole message. One piece is returned as opened, with
// no copy.
func openWhole(ctx context.Context, db *store.DB, dk *seal.DataKey, e *store.ArchiveEntry) ([]byte, error) {
	if e.Content != nil && (e.Version < 2 || e.Size <= PieceSize) {
		var whole []byte
		err := eachPiece(ctx, db, dk, e, func(b []byte) error { whole = b; return nil }) // a fresh slice in these cases
		return whole, err
	}
	out := make([]byte, 0, e.Size)
	err := eachPiece(ctx, db, dk, e, func(b []byte) error { out = append(out, b...); return nil })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// sealedSum recomputes an entry's sealed sum from what the database holds.
func sealedSum(ctx context.Context, db *store.DB, e *store.ArchiveEntry) ([]byte, error) {
	if e.Version < 2 {
		return SealedSum(e), nil
	}
	h := sha256.New()
	sumPiece(h, e.KeyWrapped)
	sumPiece(h, e.Content)
	err := db.ArchiveChunks(ctx, e.ID, func(sealed []byte) error { sumPiece(h, sealed); return nil })
	return h.Sum(nil), err
}

func normalizeAll(addrs []string) []string {
	var out []string
	for _, a := range addrs {
		out = append(out, NormalizeAddress(a))
	}
	return out
}
