package view

import (
	"strings"
	"testing"
)

func TestSafeFilename(t *testing.T) {
	long := strings.Repeat("é", 250)
	cases := []struct {
		name, in, mediaType string
		index               int
		want                string
	}{
		{"plain", "report.pdf", "application/pdf", 0, "report.pdf"},
		{"unix path", "../../etc/passwd", "text/plain", 0, "passwd"},
		{"windows path", `C:\Users\x\scan.tif`, "image/tiff", 0, "scan.tif"},
		{"only a path", "../", "application/pdf", 2, "attachment-3.pdf"},
		{"control characters", "a\x00b\r\nc\x7f.txt", "text/plain", 0, "abc.txt"},
		{"bidi override", "invoice\u202efdp.exe", "application/octet-stream", 0, "invoicefdp.exe"},
		{"reserved characters", `what?<is>"this"|*.pdf`, "application/pdf", 0, "what__is__this___.pdf"},
		{"hidden file", ".bashrc", "text/plain", 0, "bashrc"},
		{"dots only", "...", "text/csv", 1, "attachment-2.csv"},
		{"trailing dots and spaces", "run.exe. . ", "application/octet-stream", 0, "run.exe"},
		{"whitespace collapsed", "  lab \t results  .pdf", "application/pdf", 0, "lab results .pdf"},
		{"device name", "CON.txt", "text/plain", 0, "_CON.txt"},
		{"device name with number", "com1", "text/plain", 0, "_com1"},
		{"not a device name", "console.txt", "text/plain", 0, "console.txt"},
		{"invalid UTF-8", "r\xffapport.pdf", "application/pdf", 0, "rapport.pdf"},
		{"empty, known type", "", "image/png", 0, "attachment-1.png"},
		{"empty, unknown type", "", "application/x-unknown", 4, "attachment-5"},
		{"message gets .eml", "Fwd", "message/rfc822", 0, "Fwd.eml"},
		{"long name keeps extension", long + ".pdf", "application/pdf", 0, strings.Repeat("é", 196) + ".pdf"},
		{"long name without extension", long, "application/pdf", 0, strings.Repeat("é", 200)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := safeFilename(c.in, c.mediaType, c.index)
			if got != c.want {
				t.Errorf("safeFilename(%q) = %q, want %q", c.in, got, c.want)
			}
			checkFilename(t, got)
		})
	}
}
