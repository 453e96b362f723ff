package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sealpost/sealpost/internal/store/storetest"
)

// TestNoPlaintextAtRest gives every field a caller can fill (through the message,
// template, policy, recipient-key, preview, tool and events endpoints) a canary of its
// own, then searches everything the server keeps: the SQLite database with its WAL and
// the data directory, or a dump of the PostgreSQL schema; temporary files; the logs;
// the metrics. No canary appears anywhere. The fields docs/architecture.md lists as not
// PHI-bearing (names of templates, keys and domains, recipient domains, portal
// branding) are left out.
func TestNoPlaintextAtRest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		// A private TMPDIR catches any temporary file the server (or SQLite) writes,
		// without searching unrelated files that happen to live in the machine's /tmp
		// (such as this source tree, when it is cloned there).
		tmp := t.TempDir()
		t.Setenv("TMPDIR", tmp)
		e := newEnv(t, dbURL, envOptions{})
		var canaries []string
		c := func(field string) string {
			v := "cnry" + field + "q7x"
			canaries = append(canaries, v)
			return v
		}
		at := func(field, domain string) string { return c(field) + "@" + domain }

		certPEM, _ := smimeRecipient(t, at("recipientkey", patientDomain))
		if s, out := e.do("POST", "/v1/recipient-keys", e.key, map[string]any{"email": at("recipientkey", patientDomain), "type": "smime", "key": string(certPEM)}); s != 201 {
			t.Fatalf("recipient key: %d %v", s, out)
		}
		canaries = canaries[:len(canaries)-1] // the same address twice
		if s, out := e.do("PUT", "/v1/policy", e.key, map[string]any{"dlp": map[string]any{"keywords": []string{c("policykeyword")}}}); s != 200 {
			t.Fatalf("policy: %d %v", s, out)
		}
		s, tpl := e.do("POST", "/v1/templates", e.key, map[string]any{"name": "results",
			"subject": c("tplsubject") + " {{x}}", "text": c("tpltext") + " {{x}}", "html": "<p>" + c("tplhtml") + "</p>"})
		if s != 201 {
			t.Fatalf("template: %d %v", s, tpl)
		}
		msg := map[string]any{
			"from":     c("fromname") + " <" + at("fromlocal", "clinic.example") + ">",
			"to":       c("toname") + " <" + at("tolocal", patientDomain) + ">",
			"cc":       at("cclocal", patientDomain),
			"bcc":      at("bcclocal", patientDomain),
			"reply_to": c("replyname") + " <" + at("replylocal", "elsewhere.example") + ">",
			"subject":  "subject " + c("subject"), "text": "body " + c("text"), "html": "<b>" + c("html") + "</b>",
			"attachments": []map[string]string{{"filename": c("filename") + ".txt", "content_type": "text/plain",
				"content": base64.StdEncoding.EncodeToString([]byte(c("attachment"))), "content_id": at("contentid", "x.example")}},
			"headers":  []map[string]string{{"name": "X-" + c("headername"), "value": c("headervalue")}},
			"tags":     []string{c("tag")},
			"campaign": c("campaign"),
			"metadata": map[string]string{c("metakey"): c("metavalue")},
			"security": map[string]any{"force": "portal"},
			"portal":   map[string]any{"passphrase": c("passphrase") + " blue heron"},
		}
		s, res := e.send(e.key, msg, "Idempotency-Key", c("idempotencykey"))
		if s != 202 {
			t.Fatalf("send: %d %v", s, res)
		}
		tplData := c("tpldata")
		s, res2 := e.send(e.key, map[string]any{"from": "a@clinic.example", "to": "p@" + patientDomain,
			"template_id": tpl["id"], "template_data": map[string]any{"x": tplData}})
		if s != 202 {
			t.Fatalf("template send: %d %v", s, res2)
		}
		if s, _ := e.send(e.key, map[string]any{"from": "a@clinic.example", "to": "p@" + patientDomain, "template_id": c("templateid")}); s < 400 {
			t.Errorf("unknown template accepted: %d", s)
		}
		if s, out := e.do("POST", "/v1/policy/preview", e.key, map[string]any{"from": "a@clinic.example", "to": at("previewto", patientDomain), "subject": c("previewsubject"), "text": c("previewtext")}); s != 200 {
			t.Errorf("preview: %d %v", s, out)
		}
		if s, out := e.do("POST", "/v1/tools/received-headers", e.key, "Received: from "+c("toolheader")+".example by mx.example; Thu, 3 Dec 2026 10:00:00 +0000\r\nSubject: "+c("toolsubject")+"\r\n\r\n"); s != 200 {
			t.Errorf("header tool: %d %v", s, out)
		}
		if s, out := e.do("GET", "/v1/events?recipient="+at("eventquery", patientDomain), e.key, nil); s != 200 {
			t.Errorf("events: %d %v", s, out)
		}
		e.waitFinal(res["id"].(string))
		e.waitFinal(res2["id"].(string))
		delivered := false
		for _, m := range e.rcv.Messages() {
			delivered = delivered || bytes.Contains(m.Data, []byte(tplData))
		}
		if !delivered {
			// The template message travels over verified TLS, so its data is in the clear
			// at the receiver: proof that the canaries reached the server at all.
			t.Fatal("template canary not delivered: the test would prove nothing")
		}

		resp, err := http.Get(e.base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		metrics, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		places := map[string][]byte{"logs": []byte(e.logs.String()), "metrics": metrics}
		var roots []string
		if strings.HasPrefix(dbURL, "sqlite:") {
			roots = append(roots, filepath.Dir(strings.TrimPrefix(dbURL, "sqlite:")))
		} else {
			places["postgres dump"] = pgDump(t, dbURL)
		}
		for _, root := range append(roots, e.dataDir, tmp) {
			filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() || strings.Contains(path, "go-build") {
					return nil
				}
				if b, err := os.ReadFile(path); err == nil {
					places[path] = b
				}
				return nil
			})
		}
		for where, b := range places {
			lower := bytes.ToLower(b)
			for _, cn := range canaries {
				// bytea columns dump as hex: look for that form too.
				if bytes.Contains(lower, []byte(cn)) || bytes.Contains(lower, []byte(hex.EncodeToString([]byte(cn)))) {
					t.Errorf("canary %s found in %s", cn, where)
				}
			}
		}
	})
}

// TestRemoteRepliesKeepNoAddress: a receiving server that echoes the recipient in a
// temporary and then a permanent refusal leaves the address nowhere in the clear: the
// job's and its history's last_error mask it, while the tenant still reads the whole
// reply in the sealed outcome.
func TestRemoteRepliesKeepNoAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		const local = "cnryechoq7x"
		deferred := make(chan struct{})
		e := newEnv(t, dbURL, envOptions{retry: []string{"300ms", "300ms"}, respond: func(rcpt string, attempt int) *smtp.SMTPError {
			if attempt == 1 {
				return &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "mailbox <" + rcpt + "> is full"}
			}
			<-deferred // the deferred job's last_error has been checked
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<" + rcpt + ">: user unknown"}
		}})
		_, res := e.send(e.key, map[string]any{"from": "a@clinic.example", "to": local + "@" + patientDomain, "subject": "s", "text": "t"})
		id := res["id"].(string)
		var lastErr string
		for deadline := time.Now().Add(10 * time.Second); lastErr == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			e.srv.DB.SQL().QueryRow("SELECT last_error FROM deliveries WHERE message_id = $1", id).Scan(&lastErr)
		}
		close(deferred)
		if !strings.Contains(lastErr, "452") || strings.Contains(lastErr, local) || !strings.Contains(lastErr, "@"+patientDomain) {
			t.Errorf("deferred job's last_error %q", lastErr)
		}
		m := e.waitFinal(id)
		detail, _ := m["recipients"].([]any)[0].(map[string]any)["detail"].(map[string]any)
		if reply, _ := detail["smtp_reply"].(string); reply != "550 5.1.1 <"+local+"@"+patientDomain+">: user unknown" {
			t.Errorf("the sealed outcome lost the reply: %q", reply)
		}
		var final string
		e.srv.DB.SQL().QueryRow("SELECT last_error FROM delivery_history WHERE message_id = $1", id).Scan(&final)
		if !strings.Contains(final, "550") || strings.Contains(final, local) {
			t.Errorf("history's last_error %q", final)
		}
		for where, b := range atRest(t, e, dbURL) {
			if bytes.Contains(bytes.ToLower(b), []byte(local)) {
				t.Errorf("the echoed address is in %s", where)
			}
		}
	})
}

// atRest is everything the server keeps: the SQLite files or a dump of the PostgreSQL
// schema, and the data directory.
func atRest(t *testing.T, e *env, dbURL string) map[string][]byte {
	t.Helper()
	places := map[string][]byte{}
	roots := []string{e.dataDir}
	if strings.HasPrefix(dbURL, "sqlite:") {
		roots = append(roots, filepath.Dir(strings.TrimPrefix(dbURL, "sqlite:")))
	} else {
		places["postgres dump"] = pgDump(t, dbURL)
	}
	for _, root := range roots {
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if b, err := os.ReadFile(path); err == nil {
					places[path] = b
				}
			}
			return nil
		})
	}
	return places
}

// pgDump dumps the test's own PostgreSQL schema (data and definitions) as SQL text.
func pgDump(t *testing.T, dbURL string) []byte {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	schema := u.Query().Get("search_path")
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()
	out, err := exec.Command("pg_dump", "--no-owner", "--schema="+schema, "--dbname="+u.String()).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	if !bytes.Contains(out, []byte("CREATE TABLE "+schema+".messages")) {
		t.Fatalf("pg_dump output lacks the messages table")
	}
	return out
}

// TestCryptoShredding destroys a tenant key: the tenant's messages cannot be read by
// the API or delivered, while another tenant is unaffected.
func TestCryptoShredding(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{})
		_, res := e.send(e.key, simple("p@patient.example"))
		id := res["id"].(string)
		e.waitFinal(id)
		_, key2 := e.addTenant("lab", "lab.example")
		_, res2 := e.send(key2, map[string]any{"from": "a@lab.example", "to": "p@patient.example", "subject": "s", "text": "t"})

		if err := e.srv.Tenants.Shred(context.Background(), e.tenant); err != nil {
			t.Fatal(err)
		}
		if s, _ := e.do("GET", "/v1/messages/"+id, e.key, nil); s != 410 {
			t.Fatalf("shredded tenant's message: %d", s)
		}
		// The sealed bytes are still there, but nothing can open them.
		var content []byte
		e.srv.DB.SQL().QueryRow("SELECT content FROM messages WHERE id = $1", id).Scan(&content)
		if len(content) == 0 || bytes.Contains(content, []byte("Subject")) {
			t.Fatal("content missing or readable")
		}
		var wrapped []byte
		e.srv.DB.SQL().QueryRow("SELECT key_wrapped FROM tenants WHERE id = $1", e.tenant).Scan(&wrapped)
		if wrapped != nil {
			t.Fatal("wrapped key still stored")
		}
		if s, _ := e.do("GET", "/v1/messages/"+res2["id"].(string), key2, nil); s != 200 {
			t.Fatalf("other tenant affected: %d", s)
		}
	})
}
