package tracking_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	gomessage "github.com/emersion/go-message"

	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tracking"
)

// A copy gets a pixel and tracked links only over TLS, only when asked, and never when
// DLP found PHI; OpenPGP, S/MIME and portal copies leave byte for byte as built.
func TestCopyIsTrackedOnlyWherePolicyAllows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		w := newWorld(t, dbURL)
		from, _ := message.ParseAddress("clinic@clinic.example")
		to, _ := message.ParseAddress("p@patient.example")
		var raw bytes.Buffer
		err := message.Write(&raw, &message.Draft{From: from, To: []message.Address{to}, Subject: "Your visit",
			Text: "See https://clinic.example/visit", HTML: `<p>See <a href="https://clinic.example/visit?id=7">your visit</a>` +
				` or <a href="https://clinic.example/unsubscribe">unsubscribe</a> or <a href="` + w.url + `/p/abc">the portal</a></p>`})
		if err != nil {
			t.Fatal(err)
		}
		track := &pipeline.Track{Opens: true, Clicks: true}
		copyFor := func(method string, dlp string, track *pipeline.Track) []byte {
			t.Helper()
			rid := w.delivered(w.now())
			m := &store.Message{ID: "msg_" + rid, TenantID: w.tenantID, DLP: []byte(dlp)}
			return w.svc.Copy(context.Background(), w.keys, m, &pipeline.Envelope{Track: track}, rid, method, raw.Bytes())
		}
		for _, c := range []struct {
			name, method, dlp string
			track             *pipeline.Track
		}{
			{"pgp", "pgp", "[]", track}, {"smime", "smime", "[]", track}, {"portal", "portal", "[]", track},
			{"phi", "tls", `[{"category":"ssn","count":1}]`, track}, {"not asked", "tls", "[]", nil},
		} {
			if got := copyFor(c.method, c.dlp, c.track); !bytes.Equal(got, raw.Bytes()) {
				t.Fatalf("%s copy changed:\n%s", c.name, got)
			}
			if _, why := tracking.Rule(c.track, c.method, []byte(c.dlp), false); why == "" {
				t.Fatalf("%s: the rule gives no reason", c.name)
			}
		}
		out := copyFor("tls", "[]", track)
		html := htmlPart(t, out)
		if !strings.Contains(html, w.url+"/t/o/") || !strings.Contains(html, w.url+"/t/c/") || strings.Contains(html, "visit?id=7") {
			t.Fatalf("tls copy not tracked:\n%s", html)
		}
		if !strings.Contains(html, `href="https://clinic.example/unsubscribe"`) || !strings.Contains(html, `href="`+w.url+`/p/abc"`) {
			t.Fatalf("unsubscribe or portal link rewritten:\n%s", html)
		}
		if !strings.Contains(string(out), "See https://clinic.example/visit") {
			t.Fatal("the text part changed")
		}
	})
}

func htmlPart(t *testing.T, raw []byte) string {
	t.Helper()
	e, err := gomessage.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var html string
	e.Walk(func(_ []int, p *gomessage.Entity, _ error) error {
		if ct, _, _ := p.Header.ContentType(); ct == "text/html" {
			b, _ := io.ReadAll(p.Body)
			html = string(b)
		}
		return nil
	})
	if html == "" {
		t.Fatal("no html part")
	}
	return html
}
