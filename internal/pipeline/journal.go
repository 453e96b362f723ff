package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/sealpost/sealpost/internal/archive"
	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Journal prepares the archive's entry for an accepted message; archive.Prepare is the
// one the server passes. It makes the entry's key outside the transaction; the content
// is sealed into the archive inside it, a piece at a time (journalEntry.insert).
type Journal func(keys *tenant.Keys, rec *archive.Record) (*archive.Prepared, error)

// journalEntry is a prepared archive entry with the message's own sealed pieces, or
// nothing when the pipeline journals nothing.
type journalEntry struct {
	p      *archive.Prepared
	key    *tenant.Keys
	id     string
	size   int
	pieces [][]byte
}

// journal prepares the archive entry of the message built into content and chunks.
// Nothing is opened or parsed here: the transaction seals the archive copy from the
// pipeline's pieces, and the archive's index job reads the message later.
func (p *Pipeline) journal(keys *tenant.Keys, sub *Submission, id string, now time.Time, size int, content []byte, chunks [][]byte) (*journalEntry, error) {
	if p.cfg.Journal == nil {
		return &journalEntry{}, nil
	}
	d := sub.Draft
	var rcpts []string
	for _, list := range [][]message.Address{d.To, d.Cc, d.Bcc} {
		for _, a := range list {
			rcpts = append(rcpts, a.Addr)
		}
	}
	prep, err := p.cfg.Journal(keys, &archive.Record{TenantID: sub.Principal.TenantID, MessageID: id, Direction: archive.Outbound,
		At: now, Principal: sub.Principal.KeyID, Recipients: rcpts, Tags: sub.Tags, Campaign: sub.Campaign})
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return &journalEntry{p: prep, key: keys, id: id, size: size, pieces: append([][]byte{content}, chunks...)}, nil
}

// insert writes the archive entry in the accepting transaction: each of the message's
// pieces is opened into one reused buffer and sealed again under the entry's key, so
// journaling holds one piece beside the message, whatever its size.
func (j *journalEntry) insert(ctx context.Context, tx *store.Tx) error {
	if j.p == nil {
		return nil
	}
	n := len(j.pieces)
	return j.p.InsertPieces(ctx, tx, n, int64(j.size), func(i int, dst []byte) ([]byte, error) {
		out, err := j.key.Data.OpenAppend(dst, j.pieces[i], chunkBinding(j.id, i, i == n-1))
		if err != nil {
			return nil, fmt.Errorf("journal: open piece %d: %w", i, err)
		}
		return out, nil
	})
}
