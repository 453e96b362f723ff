package store

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
)

// TestAuditChainAcrossProcesses: three processes' committers append to one PostgreSQL
// database at once, each commit reading the chain's head only once it holds the
// advisory lock (a head read in the statement that takes the lock would see the
// snapshot from before it, and fork the chain). The log is one chain: no sequence
// number taken twice, every entry linked to the one before.
func TestAuditChainAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	dbs := openProcesses(t, 3)
	const each = 40
	var wg sync.WaitGroup
	errs := make(chan error, len(dbs)*each)
	for p, db := range dbs {
		for i := range each {
			wg.Go(func() {
				errs <- db.AppendAudit(ctx, &AuditEntry{TenantID: "t", Principal: fmt.Sprintf("proc_%d", p), Action: "message.send",
					Object: fmt.Sprintf("msg_%d_%d", p, i), Result: "ok"})
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	prev := make([]byte, AuditHashSize)
	var n int64
	if err := dbs[1].AuditScan(ctx, 1, func(e *AuditEntry) error {
		n++
		if e.Seq != n || !bytes.Equal(e.PrevHash, prev) || !bytes.Equal(e.Hash, AuditHash(prev, e)) {
			return fmt.Errorf("entry %d (seq %d) breaks the chain", n, e.Seq)
		}
		prev = e.Hash
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != int64(len(dbs)*each) {
		t.Fatalf("%d entries in the chain, want %d", n, len(dbs)*each)
	}
}
