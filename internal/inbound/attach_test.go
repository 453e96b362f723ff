package inbound

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"slices"
	"testing"
)

func zipOf(t *testing.T, entries map[string]string, encrypted bool) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, body := range entries {
		h := &zip.FileHeader{Name: name, Method: zip.Store}
		if encrypted {
			h.Flags |= 1 // APPNOTE 4.4.4; the bytes need not really be encrypted to be refused
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func mimeWith(name, ct string, body []byte) []byte {
	return []byte("From: a@lab.example\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: " + ct + "\r\nContent-Disposition: attachment; filename=\"" + name + "\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + base64.StdEncoding.EncodeToString(body) + "\r\n--b--\r\n")
}

// Each dangerous kind is found by name or by content, whatever the other says, and
// ordinary documents pass.
func TestInspectAttachments(t *testing.T) {
	ole := append([]byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1}, utf16("_VBA_PROJECT")...)
	for _, c := range []struct {
		name, file string
		body       []byte
		want       []string
	}{
		{"exe by name", "setup.exe", []byte("anything"), []string{ReasonExecutable}},
		{"PE renamed to pdf", "invoice.pdf", []byte("MZ\x90\x00rest"), []string{ReasonExecutable}},
		{"ELF", "tool", []byte("\x7fELF\x02\x01"), []string{ReasonExecutable}},
		{"docm by name", "report.docm", []byte("x"), []string{ReasonMacro}},
		{"docx with a VBA project", "report.docx", zipOf(t, map[string]string{"word/document.xml": "<w/>", "word/vbaProject.bin": "vba"}, false), []string{ReasonMacro}},
		{"old doc with macros", "old.doc", ole, []string{ReasonMacro}},
		{"encrypted zip", "records.zip", zipOf(t, map[string]string{"a.pdf": "x"}, true), []string{ReasonEncrypted}},
		{"exe inside a zip", "photos.zip", zipOf(t, map[string]string{"photo.jpg.exe": "MZ"}, false), []string{ReasonExecutable}},
		{"zip inside a zip", "outer.zip", zipOf(t, map[string]string{"inner.zip": string(zipOf(t, map[string]string{"run.js": "x"}, false))}, false), []string{ReasonExecutable}},
		{"plain docx", "letter.docx", zipOf(t, map[string]string{"word/document.xml": "<w/>"}, false), nil},
		{"pdf", "results.pdf", []byte("%PDF-1.7\n"), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := inspect(mimeWith(c.file, "application/octet-stream", c.body))
			var reasons []string
			for r := range got.reasons {
				reasons = append(reasons, r)
			}
			slices.Sort(reasons)
			if !slices.Equal(reasons, c.want) {
				t.Errorf("reasons %v, want %v", reasons, c.want)
			}
			if got.from != "a@lab.example" || len(got.attachments) != 1 || got.attachments[0] != c.file || got.dlp.Text != "hello" {
				t.Errorf("inspected %+v", got)
			}
		})
	}
	if c := inspect([]byte("From: a@lab.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n")); !c.reasons[ReasonMalformed] {
		t.Errorf("an unterminated multipart is not held: %v", c.reasons)
	}
}
