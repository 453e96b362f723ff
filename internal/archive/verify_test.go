package archive

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store/storetest"
)

// TestVerifyNamesTampering changes, deletes, inserts and reorders archive rows behind
// the archive's back and expects Verify to name each entry and what happened to it.
func TestVerifyNamesTampering(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		ctx := context.Background()
		r := rand.New(rand.NewPCG(7, 7))
		c := newCorpus(r)
		msgs := make([]*msg, 8)
		for i := range msgs {
			msgs[i] = c.gen(r, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), 24*time.Hour)
		}
		w.journal(t, msgs)
		rep, err := Verify(ctx, w.db, "")
		if err != nil || !rep.OK() || rep.Entries != 8 {
			t.Fatalf("intact archive: %+v, %v", rep, err)
		}
		sql := w.db.SQL()
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := sql.ExecContext(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		// changed: one byte of the sealed message flipped.
		var content []byte
		if err := sql.QueryRowContext(ctx, "SELECT content FROM archive_entries WHERE id = $1", msgs[0].id).Scan(&content); err != nil {
			t.Fatal(err)
		}
		content[len(content)/2] ^= 1
		exec("UPDATE archive_entries SET content = $1 WHERE id = $2", content, msgs[0].id)
		// changed: a field outside the seal.
		exec("UPDATE archive_entries SET direction = 'x' WHERE id = $1", msgs[1].id)
		// deleted.
		exec("DELETE FROM archive_entries WHERE id = $1", msgs[2].id)
		// reordered: two entries swap their sealed values.
		exec(`UPDATE archive_entries SET key_wrapped = (SELECT key_wrapped FROM archive_entries WHERE id = $1),
			content = (SELECT content FROM archive_entries WHERE id = $1), meta = (SELECT meta FROM archive_entries WHERE id = $1),
			sealed_sum = (SELECT sealed_sum FROM archive_entries WHERE id = $1) WHERE id = $2`, msgs[3].id, msgs[4].id)
		// reordered: an entry's time moved.
		exec("UPDATE archive_entries SET at = at + 1000 WHERE id = $1", msgs[5].id)
		// inserted: a copy of a real row under a new id.
		exec(`INSERT INTO archive_entries (id, tenant_id, at, direction, message_id, size, labels, key_wrapped, content, meta, sealed_sum, digest)
			SELECT 'arc_forged', tenant_id, at, direction, message_id, size, labels, key_wrapped, content, meta, sealed_sum, digest FROM archive_entries WHERE id = $1`, msgs[6].id)

		rep, err = Verify(ctx, w.db, "")
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{msgs[0].id: Changed, msgs[1].id: Changed, msgs[2].id: Deleted, msgs[4].id: Reordered,
			msgs[5].id: Reordered, "arc_forged": Inserted}
		got := map[string]string{}
		for _, p := range rep.Problems {
			got[p.EntryID] = p.Kind
			t.Log(p)
		}
		for id, kind := range want {
			if got[id] != kind {
				t.Errorf("entry %s: got %q, want %q", id, got[id], kind)
			}
		}
		if len(got) != len(want) {
			t.Errorf("got %d problems, want %d: %v", len(got), len(want), rep.Problems)
		}
	})
}
