package client_test

import (
	"bytes"
	"crypto/sha256"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
	"github.com/sealpost/sealpost/client"
)

// TestSendFiles sends attachments as multipart file parts: they arrive byte for byte,
// an Idempotency-Key replay (new boundary, same parts) is the same message, and
// mistakes in naming parts are field errors.
func TestSendFiles(t *testing.T) {
	base, key, rcv := startServer(t)
	ctx := testContext(t)
	c := client.New(base, key, client.WithHTTPClient(&http.Client{Timeout: 20 * time.Second}))
	scan := bytes.Repeat([]byte{0x00, 0xff, 0x10, 0x80, 'P', 'D', 'F'}, 300_000) // 2.1 MB of binary
	notes := []byte("follow-up in two weeks\n")
	msg := &client.Message{
		From: "Clinic <noreply@" + senderDomain + ">", To: []string{"pat@" + patientDomain},
		Subject: "Your scan", Text: "Attached.",
		Attachments: []client.Attachment{
			{Part: "scan"},
			{Part: "notes", Filename: "notes.txt"},
		},
	}
	files := func() []client.File {
		return []client.File{
			{Part: "scan", Filename: "scan.bin", ContentType: "application/octet-stream", Content: bytes.NewReader(scan), Size: int64(len(scan))},
			{Part: "notes", Filename: "ignored.txt", ContentType: "text/plain", Content: bytes.NewReader(notes), Size: int64(len(notes))},
		}
	}
	r1, err := c.SendFiles(ctx, msg, files(), client.WithIdempotencyKey("scan-1"))
	if err != nil {
		t.Fatal(err)
	}
	r2, err := c.SendFiles(ctx, msg, files(), client.WithIdempotencyKey("scan-1"))
	if err != nil || r2.ID != r1.ID {
		t.Fatalf("replay with the same parts: %v, ids %s and %s", err, r1.ID, r2.ID)
	}
	if err := rcv.WaitCount(ctx, 1); err != nil {
		t.Fatal(err)
	}
	e, err := message.Read(bytes.NewReader(rcv.Messages()[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][32]byte{}
	mr := e.MultipartReader()
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if d, params, _ := p.Header.ContentDisposition(); d == "attachment" {
			b, _ := io.ReadAll(p.Body)
			got[params["filename"]] = sha256.Sum256(b)
		}
	}
	if got["scan.bin"] != sha256.Sum256(scan) || got["notes.txt"] != sha256.Sum256(notes) || len(got) != 2 {
		t.Fatalf("attachments not delivered byte for byte: %d found", len(got))
	}

	for _, tc := range []struct {
		name   string
		atts   []client.Attachment
		files  []client.File
		fields []string
	}{
		{"unknown part", []client.Attachment{{Part: "nope", Filename: "a.bin"}}, nil, []string{"attachments[0].part"}},
		{"unused file and unknown part", []client.Attachment{{Part: "nope"}},
			[]client.File{{Part: "x", Filename: "x.bin", Content: strings.NewReader("x"), Size: 1}}, []string{"attachments[0].part", "parts"}},
		{"content and part", []client.Attachment{{Part: "x", Content: []byte("y")}},
			[]client.File{{Part: "x", Filename: "x.bin", Content: strings.NewReader("x"), Size: 1}}, []string{"attachments[0]", "parts"}},
	} {
		m := *msg
		m.Attachments = tc.atts
		_, err := c.SendFiles(ctx, &m, tc.files)
		e := asError(t, err)
		var fields []string
		for _, f := range e.Fields {
			fields = append(fields, f.Field)
		}
		if e.Status != 400 || strings.Join(fields, ",") != strings.Join(tc.fields, ",") {
			t.Errorf("%s: status %d fields %v, want 400 %v", tc.name, e.Status, fields, tc.fields)
		}
	}
	// A part in a JSON request is an error too, not a silently empty attachment.
	m := *msg
	m.Attachments = []client.Attachment{{Part: "scan"}}
	_, err = c.Send(ctx, &m)
	if e := asError(t, err); e.Status != 400 || len(e.Fields) != 1 || e.Fields[0].Field != "attachments[0].part" {
		t.Errorf("part in JSON: %+v", e)
	}
}
