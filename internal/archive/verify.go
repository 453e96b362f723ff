package archive

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

// Kinds of damage Verify names.
const (
	Changed   = "changed"   // a field or sealed value differs from what was journaled
	Deleted   = "deleted"   // journaled, but the row is gone
	Inserted  = "inserted"  // a row the journal never recorded
	Reordered = "reordered" // the row holds another entry's content, or its time was moved
)

// Problem is one damaged entry.
type Problem struct {
	EntryID string `json:"entry_id"`
	Kind    string `json:"kind"`
	Detail  string `json:"detail"`
}

func (p Problem) String() string { return p.Kind + " " + p.EntryID + ": " + p.Detail }

// VerifyReport is what Verify found.
type VerifyReport struct {
	Entries  int       `json:"entries"`
	Purged   int       `json:"purged"`
	Problems []Problem `json:"problems"`
}

// OK reports whether nothing was found wrong.
func (r *VerifyReport) OK() bool { return len(r.Problems) == 0 }

// journaled is what the audit chain says of one entry.
type journaled struct {
	at     time.Time
	digest []byte
	sealed []byte
	seen   bool
}

// Verify checks every archive entry (of one tenant, or of all when tenantID is "")
// against the digests the audit chain recorded when they were journaled. It needs no
// keys: digests cover the sealed values. The chain itself is proven by audit.Verify;
// run both (the CLI's archive verify does).
func Verify(ctx context.Context, db *store.DB, tenantID string) (*VerifyReport, error) {
	records := map[string]*journaled{}
	var order []string
	err := db.AuditScan(ctx, 1, func(a *store.AuditEntry) error {
		if a.Action != ActionJournal || (tenantID != "" && a.TenantID != tenantID) {
			return nil
		}
		j := &journaled{at: a.At}
		for _, f := range strings.Fields(a.Detail) {
			k, v, _ := strings.Cut(f, "=")
			b, _ := hex.DecodeString(v)
			switch k {
			case "sha256":
				j.digest = b
			case "sealed":
				j.sealed = b
			}
		}
		records[a.Object] = j
		order = append(order, a.Object)
		return nil
	})
	if err != nil {
		return nil, err
	}
	bySealed := make(map[string]string, len(records))
	for id, j := range records {
		bySealed[string(j.sealed)] = id
	}
	rep := &VerifyReport{Problems: []Problem{}}
	add := func(id, kind, format string, a ...any) {
		rep.Problems = append(rep.Problems, Problem{EntryID: id, Kind: kind, Detail: fmt.Sprintf(format, a...)})
	}
	err = db.ArchiveScanAll(ctx, tenantID, func(e *store.ArchiveEntry) error {
		rep.Entries++
		purged := !e.PurgedAt.IsZero()
		if purged {
			rep.Purged++
		}
		j := records[e.ID]
		if j == nil {
			add(e.ID, Inserted, "no journal record in the audit trail")
			return nil
		}
		j.seen = true
		sealed := e.SealedSum
		if !purged {
			var err error
			if sealed, err = sealedSum(ctx, db, e); err != nil {
				return err
			}
		}
		if !bytes.Equal(sealed, j.sealed) {
			if other, ok := bySealed[string(sealed)]; ok && other != e.ID {
				add(e.ID, Reordered, "holds the sealed content journaled for entry %s", other)
				return nil
			}
			add(e.ID, Changed, "its sealed content differs from what was journaled")
			return nil
		}
		if purged && e.KeyWrapped != nil {
			add(e.ID, Changed, "marked purged but still holds a key")
			return nil
		}
		check := *e
		check.SealedSum = sealed
		if bytes.Equal(Digest(&check), j.digest) {
			return nil
		}
		check.At = j.at
		if bytes.Equal(Digest(&check), j.digest) {
			add(e.ID, Reordered, "its time was moved from %s to %s", j.at.Format(time.RFC3339Nano), e.At.Format(time.RFC3339Nano))
			return nil
		}
		add(e.ID, Changed, "its fields differ from what was journaled")
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, id := range order {
		if !records[id].seen {
			add(id, Deleted, "journaled at %s, row missing", records[id].at.Format(time.RFC3339))
		}
	}
	return rep, nil
}
