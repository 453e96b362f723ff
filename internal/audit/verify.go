package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/strictjson"
)

// VerifyResult is the outcome of Verify. When OK is false, FirstBad is the lowest seq
// known to be wrong (missing, altered, out of place, or sealed by a checkpoint that
// disagrees) and Problem says what was found there.
type VerifyResult struct {
	OK          bool
	Entries     int64 // entries whose chain checked out, from seq 1
	Checkpoints int   // checkpoints examined, stored and external
	FirstBad    int64
	Problem     string
}

// Verify recomputes the whole chain from seq 1 and checks every stored checkpoint, and
// external (a checkpoint exported earlier and kept outside the database; may be nil),
// against it. Signatures must verify with pub. Without an external checkpoint, someone
// able to rewrite the tables and delete the stored checkpoints is not detectable: keep
// exported checkpoints elsewhere. The error is for failures to read, not for tampering.
func Verify(ctx context.Context, db *store.DB, pub ed25519.PublicKey, external *Checkpoint) (*VerifyResult, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, errors.New("verifying needs the Ed25519 public key")
	}
	stored, err := db.Checkpoints(ctx)
	if err != nil {
		return nil, err
	}
	type sealed struct {
		cp   *Checkpoint
		name string
	}
	var cps []sealed
	for _, c := range stored {
		cps = append(cps, sealed{fromStore(c, nil), "stored checkpoint"})
	}
	if external != nil {
		cps = append(cps, sealed{external, "external checkpoint"})
	}
	c := chain{want: 1, prev: make([]byte, store.AuditHashSize), hashes: map[int64][]byte{}}
	for _, s := range cps {
		c.hashes[s.cp.Seq] = nil
	}
	if err := c.scan(ctx, db); err != nil {
		return nil, err
	}
	res := &VerifyResult{Entries: c.n, Checkpoints: len(cps), FirstBad: c.bad, Problem: c.problem}
	report := func(seq int64, format string, args ...any) {
		if res.FirstBad == 0 || seq < res.FirstBad {
			res.FirstBad, res.Problem = seq, fmt.Sprintf(format, args...)
		}
	}
	head := c.want - 1
	for _, s := range cps {
		cp := s.cp
		switch {
		case !checkSignature(cp, pub):
			report(cp.Seq, "%s at seq %d: signature does not verify with the trusted key %s (claims key %s)", s.name, cp.Seq, KeyID(pub), cp.KeyID)
		case cp.Seq > head:
			if c.bad == 0 {
				report(head+1, "log truncated: %s seals seq %d but the log ends at seq %d", s.name, cp.Seq, head)
			}
		case !bytes.Equal(c.hashes[cp.Seq], cp.Hash):
			report(cp.Seq, "%s at seq %d does not match the log: entries up to seq %d were rewritten", s.name, cp.Seq, cp.Seq)
		}
	}
	res.OK = res.FirstBad == 0
	return res, nil
}

func checkSignature(cp *Checkpoint, pub ed25519.PublicKey) bool {
	return cp.Seq > 0 && len(cp.Hash) == store.AuditHashSize &&
		ed25519.Verify(pub, signedBytes(cp.Seq, cp.At, cp.Hash), cp.Signature)
}

// chain walks the log checking seqs, links and hashes, and stops at the first problem.
type chain struct {
	want    int64            // next expected seq
	prev    []byte           // hash of entry want-1
	stopAt  int64            // last seq to check; 0 = the whole log
	hashes  map[int64][]byte // seqs whose hashes the caller wants kept
	n       int64            // entries checked
	bad     int64            // first bad seq, 0 if none
	problem string
}

var errStop = errors.New("stop")

func (c *chain) scan(ctx context.Context, db *store.DB) error {
	err := db.AuditScan(ctx, c.want, func(e *store.AuditEntry) error {
		switch {
		case c.stopAt > 0 && e.Seq > c.stopAt:
			return errStop
		case e.Seq < c.want:
			c.bad, c.problem = e.Seq, fmt.Sprintf("entry %d appears twice or out of order", e.Seq)
		case e.Seq > c.want:
			c.bad, c.problem = c.want, fmt.Sprintf("entry %d is missing (deleted): the log jumps to seq %d", c.want, e.Seq)
		case !bytes.Equal(e.PrevHash, c.prev):
			c.bad, c.problem = e.Seq, fmt.Sprintf("entry %d does not link to entry %d: entries inserted, removed or reordered", e.Seq, e.Seq-1)
		case !bytes.Equal(e.Hash, store.AuditHash(e.PrevHash, e)):
			c.bad, c.problem = e.Seq, fmt.Sprintf("entry %d was altered: its hash does not match its content", e.Seq)
		}
		if c.bad != 0 {
			return errStop
		}
		if _, ok := c.hashes[e.Seq]; ok {
			c.hashes[e.Seq] = e.Hash
		}
		c.prev, c.want = e.Hash, c.want+1
		c.n++
		return nil
	})
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

// describe explains why a walk expected to reach head did not.
func (c *chain) describe(head int64) string {
	if c.bad != 0 {
		return c.problem
	}
	return fmt.Sprintf("log ends at seq %d, expected %d", c.want-1, head)
}

// exportedCheckpoint is the JSON form of a checkpoint, for keeping outside the database.
type exportedCheckpoint struct {
	Seq       int64     `json:"seq"`
	At        time.Time `json:"at"`
	Hash      string    `json:"hash"`
	KeyID     string    `json:"key_id"`
	Signature string    `json:"signature"`
	PublicKey string    `json:"public_key"`
}

// ExportCheckpoint is cp as JSON (hex encoded hashes and keys), including the public key.
func ExportCheckpoint(cp *Checkpoint) []byte {
	b, _ := json.Marshal(exportedCheckpoint{cp.Seq, cp.At.UTC(), hex.EncodeToString(cp.Hash), cp.KeyID,
		hex.EncodeToString(cp.Signature), hex.EncodeToString(cp.PublicKey)})
	return b
}

// ParseCheckpoint reads what ExportCheckpoint wrote.
func ParseCheckpoint(b []byte) (*Checkpoint, error) {
	var x exportedCheckpoint
	if err := strictjson.Decode(b, &x); err != nil {
		return nil, fmt.Errorf("audit checkpoint: %w", err)
	}
	cp := &Checkpoint{Seq: x.Seq, At: x.At.UTC(), KeyID: x.KeyID}
	var err error
	if cp.Hash, err = hex.DecodeString(x.Hash); err == nil {
		if cp.Signature, err = hex.DecodeString(x.Signature); err == nil {
			cp.PublicKey, err = hex.DecodeString(x.PublicKey)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("audit checkpoint: %w", err)
	}
	return cp, nil
}
