package pipeline

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/sealpost/sealpost/internal/archive"
	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Journal prepares the archive's copy of an accepted message; archive.Prepare is the
// one the server passes. It runs before the accepting transaction, so the transaction
// only inserts rows.
type Journal func(keys *tenant.Keys, rec *archive.Record) (*archive.Prepared, error)

// journalEntry is a prepared archive copy, or nil when the pipeline journals nothing.
type journalEntry struct{ p *archive.Prepared }

// journal prepares the archive copy of the message built into content and chunks.
func (p *Pipeline) journal(keys *tenant.Keys, sub *Submission, id string, now time.Time, content []byte, chunks [][]byte) (*journalEntry, error) {
	if p.cfg.Journal == nil {
		return &journalEntry{}, nil
	}
	raw := make([]byte, 0, len(content)+len(chunks)*chunkSize)
	pieces := append([][]byte{content}, chunks...)
	for i, sealed := range pieces {
		var err error
		if raw, err = keys.Data.OpenAppend(raw, sealed, chunkBinding(id, i, i == len(pieces)-1)); err != nil {
			return nil, fmt.Errorf("journal: open piece %d: %w", i, err)
		}
	}
	d := sub.Draft
	var rcpts []string
	for _, list := range [][]message.Address{d.To, d.Cc, d.Bcc} {
		for _, a := range list {
			rcpts = append(rcpts, a.Addr)
		}
	}
	prep, err := p.cfg.Journal(keys, &archive.Record{TenantID: sub.Principal.TenantID, MessageID: id, Direction: archive.Outbound,
		At: now, Principal: sub.Principal.KeyID, Recipients: rcpts, Tags: sub.Tags, Campaign: sub.Campaign, Raw: raw})
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if len(raw) >= collectAbove {
		// The plaintext copy is garbage once sealed: let it go before the write, where
		// the database driver's copies of the sealed pieces come on top.
		runtime.GC()
	}
	return &journalEntry{p: prep}, nil
}

// insert writes the archive copy in the accepting transaction.
func (j *journalEntry) insert(ctx context.Context, tx *store.Tx) error {
	if j.p == nil {
		return nil
	}
	return j.p.Insert(ctx, tx)
}
