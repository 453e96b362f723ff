package server_test

import (
	"bytes"
	"crypto/rand"
	"io/fs"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/devnet"
	"github.com/sealpost/sealpost/internal/portal/view"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

const intake = "intake@patient.example"

// intakeForm is a form with every field type, a file upload and a portal copy.
func intakeForm() map[string]any {
	return map[string]any{
		"name": "New patient intake", "title": "New patient intake", "intro": "Tell us about yourself before your first visit.",
		"from": "forms@clinic.example",
		"fields": []map[string]any{
			{"name": "full_name", "label": "Full name", "type": "text", "required": true},
			{"name": "email", "label": "Email", "type": "email", "required": true, "help": "We reply to this address."},
			{"name": "phone", "label": "Phone", "type": "phone"},
			{"name": "born", "label": "Date of birth", "type": "date", "required": true},
			{"name": "reason", "label": "Reason for your visit", "type": "long_text", "required": true},
			{"name": "visit", "label": "Visit type", "type": "choice", "options": []string{"In person", "Video"}, "required": true},
			{"name": "agree", "label": "I confirm these answers are mine", "type": "checkbox", "required": true},
			{"name": "referral", "label": "Referral letter", "type": "file", "accept": []string{"application/pdf"}, "max_bytes": 1 << 20},
		},
		"destinations":     map[string]any{"addresses": []string{intake}, "webhook": true, "store": true},
		"confirmation":     "Thank you: we will be in touch within two working days.",
		"retention":        "30d",
		"allowed_origins":  []string{"https://northside-clinic.example"},
		"submitter_copy":   "email",
		"min_fill_seconds": 1,
	}
}

// postForm sends a hosted form as a browser would, with the page's Origin.
func postForm(v *browserless, link string, fields map[string]string, file []byte) page {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, val := range fields {
		w.WriteField(k, val)
	}
	if file != nil {
		h := make(map[string][]string)
		h["Content-Disposition"] = []string{`form-data; name="referral"; filename="referral.pdf"`}
		h["Content-Type"] = []string{"application/pdf"}
		pw, _ := w.CreatePart(h)
		pw.Write(file)
	}
	w.Close()
	req, _ := http.NewRequest("POST", link, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Origin", link[:strings.Index(link, "/f/")])
	return v.do(req)
}

// TestFormSubmission follows submissions of a hosted form from the page to the
// organisation's mailbox: definition problems all at once, the bot protections
// (honeypot, time to fill, a burst from one client) refusing without losing what a
// person typed, field errors beside their fields and in a summary, the file byte-
// identical at the receiver, the stored copy, the form.submitted event, the portal
// copy, and no submitted value in clear in the database, the logs or temp files.
func TestFormSubmission(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		start := time.Now()
		e := newEnv(t, dbURL, envOptions{})

		// Every problem of a definition at once, by path.
		s, out := e.do("POST", "/v1/forms", e.key, map[string]any{"name": "", "title": "x", "from": "nope",
			"fields": []map[string]any{{"name": "Bad Name", "label": "", "type": "colour"}}, "destinations": map[string]any{}})
		if s != 400 || len(out["errors"].([]any)) < 5 {
			t.Fatalf("bad definition: %d %v", s, out)
		}
		s, out = e.do("POST", "/v1/forms", e.key, intakeForm())
		if s != 201 {
			t.Fatalf("create: %d %v", s, out)
		}
		formID, link := out["id"].(string), out["url"].(string)
		if !strings.Contains(out["embed_html"].(string), `<iframe src="`+link+`"`) {
			t.Fatalf("embed: %v", out["embed_html"])
		}

		canary := "Canary" + rand.Text()[:12]
		pdf := append([]byte("%PDF-1.4\n"+canary+"\n"), make([]byte, 200<<10)...)
		rand.Read(pdf[100:])
		good := map[string]string{"full_name": "Pat " + canary, "email": "pat@patient.example", "phone": "+1 555 0100",
			"born": "1980-04-23", "reason": "Knee pain " + canary + "\nsince May", "visit": "Video", "agree": "on", "copy": "on"}

		v := newVisitor(t)
		p := v.get(link)
		if p.status != 200 || !strings.Contains(p.header.Get("Content-Security-Policy"), "frame-ancestors 'self' https://northside-clinic.example") {
			t.Fatalf("page: %d %v", p.status, p.header)
		}
		with := func(extra map[string]string) map[string]string {
			m := map[string]string{"csrf": csrfOf(t, p.body)}
			for k, val := range good {
				m[k] = val
			}
			for k, val := range extra {
				m[k] = val
			}
			return m
		}
		// Sent the instant the page arrived: shown again with everything kept.
		if q := postForm(v, link, with(nil), pdf); q.status != 422 || !strings.Contains(q.body, "send the form again") || !strings.Contains(q.body, "Pat "+canary) {
			t.Fatalf("instant: %d\n%s", q.status, q.body)
		}
		time.Sleep(1100 * time.Millisecond)
		// A filled honeypot is refused.
		if q := postForm(v, link, with(map[string]string{"website_url": "http://spam.example"}), pdf); q.status != 400 {
			t.Fatalf("honeypot: %d", q.status)
		}
		// Another site's page cannot post.
		req, _ := http.NewRequest("POST", link, strings.NewReader("csrf=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		if q := v.do(req); q.status != 403 {
			t.Fatalf("cross-origin: %d", q.status)
		}
		// Field errors: beside each field and in the summary, values kept.
		q := postForm(v, link, with(map[string]string{"email": "not-an-address", "born": "", "visit": "Phone"}), nil)
		if q.status != 422 {
			t.Fatalf("invalid: %d\n%s", q.status, q.body)
		}
		for _, id := range []string{"f-email", "f-born", "f-visit"} {
			if !strings.Contains(q.body, `href="#`+id+`"`) || !strings.Contains(q.body, `id="`+id+`-error"`) || !strings.Contains(q.body, `aria-describedby="`+id) {
				t.Fatalf("no error for %s:\n%s", id, q.body)
			}
		}
		if !strings.Contains(q.body, "not-an-address") || !strings.Contains(q.body, "3 problems") {
			t.Fatalf("values or summary:\n%s", q.body)
		}
		// A genuine submission.
		q = postForm(v, link, with(nil), pdf)
		if q.status != 303 || !strings.HasSuffix(q.location, "/thanks?copy=1") {
			t.Fatalf("submit: %d %s\n%s", q.status, q.location, q.body)
		}
		if th := v.get(e.base + q.location); !strings.Contains(th.body, "within two working days") {
			t.Fatalf("thanks: %s", th.body)
		}
		// A burst from one client: refused with what was typed kept; every one accepted
		// before reaches the mailbox.
		accepted, refused := 1, false
		for i := 0; i < 10 && !refused; i++ {
			r := postForm(v, link, with(map[string]string{"copy": ""}), nil)
			switch r.status {
			case 303:
				accepted++
			case 429:
				refused = true
				if !strings.Contains(r.body, "Pat "+canary) || r.header.Get("Retry-After") == "" {
					t.Fatalf("rate-limited page lost the answers:\n%s", r.body)
				}
			default:
				t.Fatalf("burst: %d\n%s", r.status, r.body)
			}
		}
		if !refused {
			t.Fatal("a burst of 10 was never limited")
		}

		// The organisation's mailbox: every accepted submission, the file byte-identical.
		deadline := time.Now().Add(20 * time.Second)
		var got []devnet.Received
		for time.Now().Before(deadline) {
			got = got[:0]
			for _, m := range e.rcv.Messages() {
				if len(m.To) > 0 && m.To[0] == intake {
					got = append(got, m)
				}
			}
			if len(got) >= accepted {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if len(got) != accepted {
			t.Fatalf("mailbox has %d submissions, %d accepted", len(got), accepted)
		}
		files := 0
		for _, m := range got {
			if m.TLS == nil {
				t.Fatal("a submission travelled without TLS")
			}
			mv, err := view.Parse(m.Data, view.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(mv.Text, "Pat "+canary) || !strings.Contains(mv.Text, "Video") {
				t.Fatalf("delivered text:\n%s", mv.Text)
			}
			for _, a := range mv.Attachments {
				if a.Filename == "referral.pdf" {
					files++
					if !bytes.Equal(a.Data, pdf) {
						t.Fatal("the delivered file differs from the uploaded one")
					}
				}
			}
		}
		if files != 1 {
			t.Fatalf("%d delivered files, want 1", files)
		}
		// The submitter's copy is a portal notice: the answers are not in it.
		notices := mailTo(e.rcv, "pat@patient.example", "/p/")
		for end := time.Now().Add(15 * time.Second); len(notices) == 0 && time.Now().Before(end); notices = mailTo(e.rcv, "pat@patient.example", "/p/") {
			time.Sleep(50 * time.Millisecond)
		}
		if len(notices) != 1 || strings.Contains(notices[0], canary) {
			t.Fatalf("copy notices: %q", notices)
		}
		// Stored for the dashboard, and one thin event each.
		_, subs := e.do("GET", "/v1/forms/"+formID+"/submissions", e.key, nil)
		list := subs["submissions"].([]any)
		if len(list) != accepted || !strings.Contains(toJSON(list[0]), canary) || list[0].(map[string]any)["evidence_hash"] == "" {
			t.Fatalf("submissions: %v", subs)
		}
		evs := e.events("type=form.submitted")
		if len(evs) != accepted || strings.Contains(toJSON(evs), canary) {
			t.Fatalf("events: %v", evs)
		}
		assertArchived(t, e)

		// Nothing submitted rests in clear: database, data directory, logs, temp files.
		places := atRest(t, e, dbURL)
		places["logs"] = []byte(e.logs.String())
		for k, b := range recentTemp(start) {
			places[k] = b
		}
		for where, b := range places {
			if bytes.Contains(b, []byte(canary)) {
				t.Errorf("submitted value in clear in %s", where)
			}
		}
	})
}

// recentTemp reads the files written in the temp directory since start.
func recentTemp(start time.Time) map[string][]byte {
	out := map[string][]byte{}
	root := os.TempDir()
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fs.SkipDir
		}
		if d.IsDir() {
			if strings.Count(strings.TrimPrefix(path, root), string(filepath.Separator)) > 4 {
				return fs.SkipDir
			}
			return nil
		}
		if info, err := d.Info(); err == nil && info.ModTime().After(start) && info.Size() < 64<<20 && info.Mode().IsRegular() {
			if b, err := os.ReadFile(path); err == nil {
				out[path] = b
			}
		}
		return nil
	})
	return out
}
