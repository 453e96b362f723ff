package received

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

func TestReceivedLimit(t *testing.T) {
	t.Parallel()
	var fields []string
	for i := range 150 { // newest first: id 0 is the newest
		fields = append(fields, fmt.Sprintf("Received: from a%d.example ([203.0.113.1]) by b.example with ESMTPS id %d; Mon, 23 Nov 2026 10:00:00 +0000", i, i))
	}
	rep, err := Analyze(strings.NewReader(message(fields...)))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Hops) != MaxReceived {
		t.Fatalf("got %d hops, want %d", len(rep.Hops), MaxReceived)
	}
	if first, last := rep.Hops[0].ID, rep.Hops[MaxReceived-1].ID; first != "99" || last != "0" {
		t.Errorf("kept ids %s..%s, want the newest 99..0", first, last)
	}
}

// endless is a header section that never ends.
type endless struct{ n int }

func (e *endless) Read(p []byte) (int, error) {
	const line = "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
	for i := range p {
		p[i] = line[(e.n+i)%len(line)]
	}
	e.n += len(p)
	return len(p), nil
}

func TestHeaderByteLimit(t *testing.T) {
	t.Parallel()
	src := &endless{}
	r := io.MultiReader(strings.NewReader(postfixTLS13+"\r\n"), src)
	rep, err := Analyze(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Hops) != 1 || rep.Verdict != VerdictEncrypted {
		t.Errorf("hops %d verdict %q", len(rep.Hops), rep.Verdict)
	}
	if total := src.n + len(postfixTLS13) + 2; total > MaxHeaderBytes {
		t.Errorf("read %d bytes, cap is %d", total, MaxHeaderBytes)
	}
}

func TestLongField(t *testing.T) {
	t.Parallel()
	long := "Received: from a.example (" + strings.Repeat("x", 10000) + " [203.0.113.9])\r\n" +
		"\tby mx.example.org (Postfix) with ESMTP id LAST; Mon, 23 Nov 2026 10:00:00 +0000"
	h := analyzeOne(t, long)
	if h.ID != "LAST" || h.FromAddr != "203.0.113.9" || h.Class != Plaintext {
		t.Errorf("long field parsed as %q %q %s", h.ID, h.FromAddr, h.Class)
	}
}

type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestReaderError(t *testing.T) {
	t.Parallel()
	if _, err := Analyze(failing{}); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("err = %v", err)
	}
}

func TestWriteTable(t *testing.T) {
	t.Parallel()
	rep, err := Analyze(strings.NewReader(message(postfixLocalhost, proofpointPlain, gmailSMTPS, gmailInternal,
		"Received: from evil\x1b]0;title\x07.example by x.example with SMTP; garbage")))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rep.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	lines := strings.Split(out, "\n")
	for _, h := range rep.Hops {
		row := lines[h.Index] // line 0 is the heading
		for _, want := range []string{fmt.Sprint(h.Index), clip(h.By, 60), string(h.Class)} {
			if !strings.Contains(row, want) {
				t.Errorf("row %q lacks %q", row, want)
			}
		}
	}
	for _, want := range []string{"FROM (ADDR)", "mail-sor-f41.google.com (209.85.220.41)", "(bad date)", "plaintext",
		"SSL/TLS (version not recorded)", "Verdict: not encrypted", rep.Summary} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("control characters reached the table: %q", out)
	}
}

func FuzzAnalyze(f *testing.F) {
	for _, s := range []string{postfixTLS13, postfixPickup, sendmailSSLv3, eximTLS13, eximOld, msTLS, msMapi,
		gmailSMTPS, gmailInternal, proofpointTLS, sealpostHTTPS, qmailInvoked,
		"Received: ((((", "Received: from [IPv6:", "Received: ;;;(;)", "Received: by x with tls"} {
		f.Add([]byte(message(s)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := Analyze(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		switch rep.Verdict {
		case VerdictEncrypted, VerdictNotEncrypted, VerdictUnknown:
		default:
			t.Fatalf("verdict %q", rep.Verdict)
		}
		if len(rep.Hops) > MaxReceived || rep.Summary == "" {
			t.Fatalf("%d hops, summary %q", len(rep.Hops), rep.Summary)
		}
		for i, h := range rep.Hops {
			if h.Index != i+1 || h.Reason == "" {
				t.Fatalf("hop %d: index %d reason %q", i+1, h.Index, h.Reason)
			}
			switch h.Class {
			case Encrypted, Plaintext, Unknown, Internal:
			default:
				t.Fatalf("hop %d class %q", h.Index, h.Class)
			}
			if (h.Class == Encrypted) != (h.TLS != nil) {
				t.Fatalf("hop %d class %s TLS %v", h.Index, h.Class, h.TLS)
			}
		}
		if err := rep.WriteTable(io.Discard); err != nil {
			t.Fatal(err)
		}
	})
}
