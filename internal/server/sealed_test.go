package server_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/store/storetest"
)

// TestNoPlaintextAtRest sends a canary in the subject, body, attachment, metadata and
// recipient address, then searches every file in the data directory (database, WAL,
// key file) and the logs: the canary appears nowhere.
func TestNoPlaintextAtRest(t *testing.T) {
	// A private TMPDIR catches any temporary file the server (or SQLite) writes,
	// without searching unrelated files that happen to live in the machine's /tmp
	// (such as this source tree, when it is cloned there).
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dbURL := storetest.SQLiteURL(t)
	e := newEnv(t, dbURL, envOptions{})
	const canary = "CANARY7f3a9SSN078051120"
	_, res := e.send(e.key, map[string]any{
		"from": "a@clinic.example", "to": "canary7f3a9@patient.example",
		"subject": "subject " + canary, "text": "body " + canary, "html": "<b>" + canary + "</b>",
		"attachments": []map[string]string{{"filename": "c.txt", "content_type": "text/plain", "content": "Q0FOQVJZN2YzYTlTU04wNzgwNTExMjA="}},
		"metadata":    map[string]string{"note": canary},
	})
	e.waitFinal(res["id"].(string))
	if !bytes.Contains(e.rcv.Messages()[0].Data, []byte(canary)) {
		t.Fatal("canary not delivered: the test would prove nothing")
	}
	dir := filepath.Dir(strings.TrimPrefix(dbURL, "sqlite:"))
	for _, root := range []string{dir, e.dataDir, tmp} {
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.Contains(path, "go-build") {
				return nil
			}
			b, err := os.ReadFile(path)
			if err == nil && (bytes.Contains(b, []byte(canary)) || bytes.Contains(b, []byte("canary7f3a9@"))) {
				t.Errorf("canary found in %s", path)
			}
			return nil
		})
	}
	if strings.Contains(e.logs.String(), canary) || strings.Contains(e.logs.String(), "canary7f3a9@") {
		t.Error("canary found in logs")
	}
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
