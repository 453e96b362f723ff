package pipeline

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant"
)

// TestContentPieces: a built message is stored as sealed pieces and opened whole; a
// one-piece message keeps its old binding; a dropped last piece or pieces swapped
// between messages do not open.
func TestContentPieces(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		db, err := store.Open(ctx, dbURL, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		ring, _ := seal.NewKeyring(seal.GenerateMasterKey())
		ts := tenant.New(db, ring)
		tn, err := ts.Create(ctx, "clinic")
		if err != nil {
			t.Fatal(err)
		}
		keys, err := ts.Keys(ctx, tn.ID)
		if err != nil {
			t.Fatal(err)
		}
		store1 := func(id string, content []byte) *store.Message {
			t.Helper()
			cw := newContentWriter(keys.Data, id, 0)
			for p := content; len(p) > 0; {
				k := min(len(p), 1+rand.IntN(300_000)) // writes of any size
				cw.Write(p[:k])
				p = p[k:]
			}
			first, rest := cw.finish()
			m := &store.Message{ID: id, TenantID: tn.ID, CreatedAt: time.Now(), FromDomain: "clinic.example", Size: cw.n,
				Envelope: []byte("x"), Content: first, Chunks: rest}
			if err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error { return tx.InsertMessage(ctx, m, nil, nil, nil) }); err != nil {
				t.Fatal(err)
			}
			loaded, err := db.Message(ctx, "", id)
			if err != nil {
				t.Fatal(err)
			}
			return loaded
		}
		big := make([]byte, 2*chunkSize+12345)
		for i := range big {
			big[i] = byte(rand.Uint32())
		}
		m := store1("msg_big", big)
		var pieces int
		db.SQL().QueryRow("SELECT COUNT(*) FROM message_chunks WHERE message_id = 'msg_big'").Scan(&pieces)
		if pieces != 2 {
			t.Fatalf("%d pieces after the first, want 2", pieces)
		}
		got, err := OpenContent(ctx, db, keys.Data, m)
		if err != nil || !bytes.Equal(got, big) {
			t.Fatalf("large message did not open whole: %v", err)
		}

		small := store1("msg_small", []byte("Subject: hi\r\n\r\nhello\r\n"))
		if b, err := keys.Data.Open(small.Content, "message/msg_small/content"); err != nil || string(b) != "Subject: hi\r\n\r\nhello\r\n" {
			t.Fatalf("one-piece message under its old binding: %v", err)
		}
		if got, err := OpenContent(ctx, db, keys.Data, small); err != nil || !bytes.Equal(got, []byte("Subject: hi\r\n\r\nhello\r\n")) {
			t.Fatalf("one-piece message: %v", err)
		}

		// Cut short: without its last piece the message does not open.
		db.SQL().Exec("DELETE FROM message_chunks WHERE message_id = 'msg_big' AND seq = 2")
		if _, err := OpenContent(ctx, db, keys.Data, m); err == nil {
			t.Fatal("a message missing its last piece opened")
		}
		// A piece from another message does not open in this one.
		m2 := store1("msg_other", big)
		db.SQL().Exec("UPDATE message_chunks SET message_id = 'msg_big' WHERE message_id = 'msg_other' AND seq = 2")
		if _, err := OpenContent(ctx, db, keys.Data, m); err == nil {
			t.Fatal("a piece moved from another message opened")
		}
		_ = m2
	})
}
