package server_test

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/devnet"
	"github.com/sealpost/sealpost/internal/portal/view"
)

// portalEnv is an env whose recipients at plain.example have no STARTTLS (so PHI
// reaches them through the portal) and whose own domain, clinic.example, has an MX
// with verified TLS (so portal replies reach the sender securely).
type portalEnv struct {
	*env
	plain  *devnet.Receiver
	clinic *devnet.Receiver
}

func newPortalEnv(t *testing.T, dbURL string, configure func(*config.Config)) *portalEnv {
	e := newEnv(t, dbURL, envOptions{configure: configure})
	return &portalEnv{env: e, plain: e.secondaryReceiver("127.0.0.2", "plain.example", ""),
		clinic: e.secondaryReceiver("127.0.0.3", "clinic.example", "mx.clinic.example")}
}

// reportPDF stands in for a lab report attachment.
var reportPDF = []byte("%PDF-1.4\n% lab report for the portal test\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

// portalMessage is a message with PHI and a PDF, for to.
func portalMessage(to string, extra map[string]any) map[string]any {
	m := map[string]any{"from": "Northside Lab <lab@clinic.example>", "to": []string{to}, "subject": "Your results",
		"text":        phiText + "\nYour potassium is 4.1 mmol/L.",
		"attachments": []map[string]any{{"filename": "report.pdf", "content_type": "application/pdf", "content": base64.StdEncoding.EncodeToString(reportPDF)}}}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// sendPortal sends msg and returns its id and the link the portal notice carries.
func (pe *portalEnv) sendPortal(to string, msg map[string]any) (id, link string) {
	pe.t.Helper()
	before := len(mailTo(pe.plain, to, "/p/"))
	s, res := pe.send(pe.key, msg)
	if s != 202 {
		pe.t.Fatalf("send: %d %v", s, res)
	}
	id = res["id"].(string)
	pe.waitFinal(id)
	notice := pe.waitMail(pe.plain, to, "/p/", before)
	m := regexp.MustCompile(`https?://[^\s"<>]+/p/[A-Za-z0-9_-]{20,}`).FindString(notice)
	if m == "" {
		pe.t.Fatalf("no portal link in the notice:\n%s", notice)
	}
	return id, m
}

// mailTo lists the text of every message r received for rcpt that contains marker.
func mailTo(r *devnet.Receiver, rcpt, marker string) []string {
	var out []string
	for _, m := range r.Messages() {
		for _, to := range m.To {
			if !strings.EqualFold(to, rcpt) {
				continue
			}
			v, err := view.Parse(m.Data, view.Limits{})
			if err != nil {
				continue
			}
			if strings.Contains(v.Text, marker) {
				out = append(out, v.Text)
			}
		}
	}
	return out
}

// waitMail waits for the (before+1)th message to rcpt containing marker.
func (pe *portalEnv) waitMail(r *devnet.Receiver, rcpt, marker string, before int) string {
	pe.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if list := mailTo(r, rcpt, marker); len(list) > before {
			return list[before]
		}
		time.Sleep(30 * time.Millisecond)
	}
	pe.t.Fatalf("no message to %s containing %q", rcpt, marker)
	return ""
}

var codePattern = regexp.MustCompile(`access code is:\s+(\d{6})`)

// code waits for the next access code emailed to rcpt.
func (pe *portalEnv) code(rcpt string, before int) string {
	pe.t.Helper()
	m := codePattern.FindStringSubmatch(pe.waitMail(pe.plain, rcpt, "access code is", before))
	if m == nil {
		pe.t.Fatal("no code in the code email")
	}
	return m[1]
}

// browserless is a portal visitor over plain HTTP that keeps cookies by hand (a jar
// will not send Secure cookies over http) and never follows redirects.
type browserless struct {
	t       *testing.T
	client  *http.Client
	cookies map[string]*http.Cookie
}

func newVisitor(t *testing.T) *browserless {
	return &browserless{t: t, cookies: map[string]*http.Cookie{},
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status   int
	body     string
	header   http.Header
	location string
}

func (b *browserless) do(req *http.Request) page {
	b.t.Helper()
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	return page{status: resp.StatusCode, body: string(body), header: resp.Header, location: resp.Header.Get("Location")}
}

func (b *browserless) get(u string) page {
	req, _ := http.NewRequest("GET", u, nil)
	return b.do(req)
}

func (b *browserless) post(u string, form url.Values) page {
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// postFiles sends a multipart form with one file per name in files.
func (b *browserless) postFiles(u string, fields map[string]string, files map[string][]byte) page {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	for name, data := range files {
		fw, _ := w.CreateFormFile("files", name)
		fw.Write(data)
	}
	w.Close()
	req, _ := http.NewRequest("POST", u, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return b.do(req)
}

var csrfPattern = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, html string) string {
	t.Helper()
	m := csrfPattern.FindStringSubmatch(html)
	if m == nil {
		t.Fatal("page has no csrf field")
	}
	return m[1]
}

// signIn asks for a code and enters it; the visitor then holds a session.
func (pe *portalEnv) signIn(v *browserless, link, rcpt string) {
	pe.t.Helper()
	before := len(mailTo(pe.plain, rcpt, "access code is"))
	if p := v.post(link+"/code", nil); p.status != 303 {
		pe.t.Fatalf("request code: %d %s", p.status, p.body)
	}
	if p := v.post(link+"/verify", url.Values{"code": {pe.code(rcpt, before)}}); p.status != 303 || !strings.HasSuffix(p.location, "/m") {
		pe.t.Fatalf("verify: %d %s", p.status, p.location)
	}
}

// tinyPNG is a 2x2 PNG logo.
func tinyPNG() []byte { return tinyPNGSized(2, 2) }

// tinyPNGSized draws a logo: a blue square with a white cross.
func tinyPNGSized(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			c := color.RGBA{R: 29, G: 78, B: 216, A: 255}
			if (x > w*2/5 && x < w*3/5 && y > h/5 && y < h*4/5) || (y > h*2/5 && y < h*3/5 && x > w/5 && x < w*4/5) {
				c = color.RGBA{R: 255, G: 255, B: 255, A: 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}
