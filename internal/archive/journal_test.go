package archive

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant"
)

// TestJournalInPiecesAndIndexJob journals a message of several pieces and a small
// one: before the index job runs they are archived (found by date) but no word finds
// them; after it, words of the header, the text and the attachment's name do, for the
// large one read a piece at a time. The content reads back byte for byte, Verify
// passes, and a changed or a removed piece is named.
func TestJournalInPiecesAndIndexJob(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		ctx := context.Background()
		old := wholeParseBytes
		wholeParseBytes = 1 << 20 // the large path for the 3 MiB message
		t.Cleanup(func() { wholeParseBytes = old })

		blob := make([]byte, 2<<20+12345)
		r := rand.New(rand.NewPCG(1, 2))
		for i := range blob {
			blob[i] = byte(r.Uint32())
		}
		large := []byte("From: Lab <lab@clinic.example>\r\nTo: pat@patient.example\r\nSubject: Imaging qzlarge report\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n--b0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe qzscan images are attached.\r\n" +
			"--b0\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"qzscan-2026.dcm\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
			base64.StdEncoding.EncodeToString(blob) + "\r\n--b0--\r\n")
		small := []byte("From: lab@clinic.example\r\nTo: pat@patient.example\r\nSubject: qzsmall note\r\n\r\nSee qzsmall.\r\n")
		at := w.now.Add(-time.Hour)
		var ids []string
		err := w.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			ids = nil
			for _, raw := range [][]byte{large, small} {
				id, err := JournalTx(ctx, tx, w.keys, &Record{TenantID: w.who.TenantID, Direction: Outbound, At: at,
					Recipients: []string{"pat@patient.example", "Hidden@Patient.example"}, Tags: []string{"imaging"}, Raw: raw})
				if err != nil {
					return err
				}
				ids = append(ids, id)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var pieces int
		if err := w.db.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM archive_chunks WHERE entry_id = $1", ids[0]).Scan(&pieces); err != nil || pieces != len(large)/PieceSize {
			t.Fatalf("the large message is in %d pieces after the first (%v), want %d", pieces, err, len(large)/PieceSize)
		}
		queries := []Query{{Subject: "qzlarge"}, {Body: "qzscan images"}, {Attachment: "qzscan-2026.dcm"}, {To: "hidden@patient.example"}, {Tag: "imaging"}}
		for _, q := range queries {
			if got := w.searchIDs(t, q); len(got) != 0 {
				t.Errorf("%+v found %v before the index job ran", q, got)
			}
		}
		if got := w.searchIDs(t, Query{Since: at.Add(-time.Minute)}); len(got) != 2 {
			t.Errorf("by date before indexing: %v", got)
		}
		if n, err := w.svc.IndexPending(ctx); err != nil || n != 2 {
			t.Fatalf("index job: %d, %v", n, err)
		}
		if n, err := w.svc.IndexPending(ctx); err != nil || n != 0 {
			t.Fatalf("index job ran twice: %d, %v", n, err)
		}
		for _, q := range queries {
			want := 1
			if q.Tag != "" || q.To != "" {
				want = 2
			}
			if got := w.searchIDs(t, q); len(got) != want || !strings.Contains(strings.Join(got, " "), ids[0]) {
				t.Errorf("%+v found %v after the index job, want the large message (%d)", q, got, want)
			}
		}
		e, err := w.svc.Show(ctx, w.who, ids[0])
		if err != nil || !bytes.Equal(e.Raw, large) {
			t.Fatalf("large message read back: %v, equal %v", err, err == nil && bytes.Equal(e.Raw, large))
		}
		if e.Meta == nil || e.Meta.Subject != "Imaging qzlarge report" || fmt.Sprint(e.Meta.Attachments) != "[qzscan-2026.dcm]" {
			t.Errorf("description: %+v", e.Meta)
		}
		if rep, err := Verify(ctx, w.db, ""); err != nil || !rep.OK() {
			t.Fatalf("verify: %+v %v", rep, err)
		}
		// A piece changed, then a piece removed: both named.
		sql := w.db.SQL()
		var piece []byte
		if err := sql.QueryRowContext(ctx, "SELECT data FROM archive_chunks WHERE entry_id = $1 AND seq = 1", ids[0]).Scan(&piece); err != nil {
			t.Fatal(err)
		}
		piece[100] ^= 1
		if _, err := sql.ExecContext(ctx, "UPDATE archive_chunks SET data = $1 WHERE entry_id = $2 AND seq = 1", piece, ids[0]); err != nil {
			t.Fatal(err)
		}
		if rep, _ := Verify(ctx, w.db, ""); len(rep.Problems) != 1 || rep.Problems[0].EntryID != ids[0] || rep.Problems[0].Kind != Changed {
			t.Errorf("a changed piece: %+v", rep)
		}
		if _, err := w.svc.Show(ctx, w.who, ids[0]); err == nil {
			t.Error("a changed piece opened")
		}
		piece[100] ^= 1
		sql.ExecContext(ctx, "UPDATE archive_chunks SET data = $1 WHERE entry_id = $2 AND seq = 1", piece, ids[0])
		sql.ExecContext(ctx, "DELETE FROM archive_chunks WHERE entry_id = $1 AND seq = 2", ids[0])
		if rep, _ := Verify(ctx, w.db, ""); len(rep.Problems) != 1 || rep.Problems[0].Kind != Changed {
			t.Errorf("a removed piece: %+v", rep)
		}
	})
}

// failingKeys opens every tenant's keys but one's, as when that tenant's master key
// is missing from the keyring.
type failingKeys struct {
	Keyer
	broken string
}

func (k failingKeys) Keys(ctx context.Context, tenantID string) (*tenant.Keys, error) {
	if tenantID == k.broken {
		return nil, errors.New("master key 0123 is not in the keyring")
	}
	return k.Keyer.Keys(ctx, tenantID)
}

// TestIndexJobGoesOnPastATenantItCannotOpen: a tenant whose key cannot be opened is
// left aside (its entries wait, the others' are indexed) and tried again later; a
// shredded tenant's entries are marked indexed with no terms, so they never hold the
// job back.
func TestIndexJobGoesOnPastATenantItCannotOpen(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		ctx := context.Background()
		journal := func(tenantID string, keys *tenant.Keys, at time.Time, subject string) string {
			var id string
			err := w.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
				var err error
				id, err = JournalTx(ctx, tx, keys, &Record{TenantID: tenantID, Direction: Outbound, At: at,
					Raw: []byte("From: a@clinic.example\r\nSubject: " + subject + "\r\n\r\nbody\r\n")})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		other, err := w.tenants.Create(ctx, "lab")
		if err != nil {
			t.Fatal(err)
		}
		otherKeys, err := w.tenants.Keys(ctx, other.ID)
		if err != nil {
			t.Fatal(err)
		}
		gone, err := w.tenants.Create(ctx, "closed")
		if err != nil {
			t.Fatal(err)
		}
		goneKeys, err := w.tenants.Keys(ctx, gone.ID)
		if err != nil {
			t.Fatal(err)
		}
		// The unopenable and the shredded tenants' entries are the oldest, so they
		// come first in every batch.
		for i := range indexBatch + 2 {
			journal(other.ID, otherKeys, w.now.Add(-3*time.Hour).Add(time.Duration(i)*time.Second), "qzlab")
		}
		goneID := journal(gone.ID, goneKeys, w.now.Add(-2*time.Hour), "qzgone")
		mine := journal(w.who.TenantID, w.keys, w.now.Add(-time.Hour), "qzmine")
		if err := w.tenants.Shred(ctx, gone.ID); err != nil {
			t.Fatal(err)
		}

		w.svc.keys = failingKeys{Keyer: w.tenants, broken: other.ID}
		n, err := w.svc.IndexPending(ctx)
		if err != nil || n != 2 {
			t.Fatalf("index job past a tenant it cannot open: %d, %v (want the shredded and the open entry)", n, err)
		}
		if got := w.searchIDs(t, Query{Subject: "qzmine"}); len(got) != 1 || got[0] != mine {
			t.Errorf("the open tenant's entry is not found: %v", got)
		}
		var indexed int
		w.db.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM archive_entries WHERE id = $1 AND indexed_at IS NOT NULL", goneID).Scan(&indexed)
		if indexed != 1 {
			t.Error("the shredded tenant's entry still waits for its index job")
		}
		if n, err := w.svc.IndexPending(ctx); err != nil || n != 0 {
			t.Fatalf("while set aside: %d, %v", n, err)
		}
		// The key comes back (the master key is restored); once the retry time has
		// passed, the tenant's entries are indexed.
		w.svc.keys = w.tenants
		w.now = w.now.Add(keyRetry + time.Second)
		if n, err := w.svc.IndexPending(ctx); err != nil || n != indexBatch+2 {
			t.Fatalf("after the retry time: %d, %v", n, err)
		}
	})
}
