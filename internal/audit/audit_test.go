package audit_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/audit"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

func TestExportWritesJSONLines(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		ctx := context.Background()
		var buf bytes.Buffer
		if err := f.log.Export(ctx, &buf, store.AuditFilter{}); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(&buf)
		var n int64
		prev := strings.Repeat("00", 32)
		for sc.Scan() {
			n++
			var line map[string]any
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Fatalf("line %d is not JSON: %v: %s", n, err, sc.Text())
			}
			for _, k := range []string{"seq", "at", "tenant_id", "principal", "action", "object", "result", "client", "detail", "prev_hash", "hash"} {
				if _, ok := line[k]; !ok {
					t.Fatalf("line %d lacks %q: %s", n, k, sc.Text())
				}
			}
			if line["seq"] != float64(n) || line["prev_hash"] != prev || line["action"] != "message.read" {
				t.Fatalf("line %d: %s", n, sc.Text())
			}
			if _, err := time.Parse(time.RFC3339Nano, line["at"].(string)); err != nil {
				t.Fatalf("line %d time: %v", n, err)
			}
			prev = line["hash"].(string)
		}
		if n != 50 {
			t.Fatalf("exported %d lines, want 50", n)
		}
		head, _ := f.db.LastAudit(ctx)
		if prev != hex.EncodeToString(head.Hash) {
			t.Fatal("exported chain does not end at the head")
		}
		buf.Reset()
		if err := f.log.Export(ctx, &buf, store.AuditFilter{TenantID: "t1", AfterSeq: 10, Limit: 7}); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if len(lines) != 7 || !strings.Contains(lines[0], `"tenant_id":"t1"`) {
			t.Fatalf("filtered export: %d lines, first %s", len(lines), lines[0])
		}
	})
}

func TestCheckpoint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		ctx := context.Background()
		cp, err := audit.ParseCheckpoint(f.exported)
		if err != nil {
			t.Fatal(err)
		}
		if cp.Seq != 50 || cp.KeyID != f.signer.KeyID() || !cp.PublicKey.Equal(f.signer.Public()) || len(cp.KeyID) != 16 {
			t.Fatalf("exported checkpoint: %s", f.exported)
		}
		// Nothing new: the same checkpoint comes back.
		again, err := f.log.Checkpoint(ctx)
		if err != nil || !bytes.Equal(audit.ExportCheckpoint(again), f.exported) {
			t.Fatalf("repeat checkpoint: %s, %v", audit.ExportCheckpoint(again), err)
		}
		for range 5 {
			if err := f.log.Record(ctx, audit.Entry{Action: "login", Principal: "u1", Result: "ok"}); err != nil {
				t.Fatal(err)
			}
		}
		next, err := f.log.Checkpoint(ctx)
		if err != nil || next.Seq != 55 {
			t.Fatalf("next checkpoint: %+v, %v", next, err)
		}
		// A tampered tail is never signed.
		if err := f.log.Record(ctx, audit.Entry{Action: "login", Principal: "u2", Result: "denied"}); err != nil {
			t.Fatal(err)
		}
		f.exec(t, "UPDATE audit_log SET result = 'ok' WHERE seq = 56")
		if _, err := f.log.Checkpoint(ctx); err == nil || !strings.Contains(err.Error(), "entry 56 was altered") {
			t.Fatalf("checkpoint over tampered entry: %v", err)
		}
		if cps, _ := f.db.Checkpoints(ctx); len(cps) != 2 {
			t.Fatalf("%d checkpoints stored, want 2", len(cps))
		}
		// Without a key, or with nothing to sign, there is no checkpoint.
		if _, err := audit.New(f.db, nil).Checkpoint(ctx); err == nil {
			t.Fatal("checkpoint without a key")
		}
		if _, err := audit.ParseCheckpoint([]byte(`{"hash":"zz"}`)); err == nil {
			t.Fatal("bad hex accepted")
		}
	})
}

func TestCheckpointEmptyLogAndRunner(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db, err := store.Open(ctx, url, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		_, key, _ := ed25519.GenerateKey(rand.Reader)
		log := audit.New(db, &audit.Signer{Key: key})
		if _, err := log.Checkpoint(ctx); !errors.Is(err, audit.ErrEmptyLog) {
			t.Fatalf("empty log checkpoint: %v", err)
		}
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			(&audit.Runner{Log: log}).Run(rctx, 10*time.Millisecond)
		}()
		if err := log.Record(ctx, audit.Entry{Action: "tenant.create", Object: "t1", Result: "ok"}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			cp, err := db.LatestCheckpoint(ctx)
			if err == nil && cp.Seq == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("runner made no checkpoint: %v", err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		<-done
		res, err := audit.Verify(ctx, db, ed25519.PrivateKey(key).Public().(ed25519.PublicKey), nil)
		if err != nil || !res.OK || res.Entries != 1 || res.Checkpoints != 1 {
			t.Fatalf("verify: %+v, %v", res, err)
		}
	})
}
