package received

import (
	"strings"
	"testing"
	"time"
)

func analyzeOne(t *testing.T, field string) Hop {
	t.Helper()
	rep, err := Analyze(strings.NewReader(message(field)))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Hops) != 1 {
		t.Fatalf("got %d hops, want 1", len(rep.Hops))
	}
	return rep.Hops[0]
}

func TestTLSDetails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		field string
		want  TLSInfo
	}{
		{"postfix 1.3", postfixTLS13, TLSInfo{"TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, "NOT"}},
		{"postfix 1.2", postfixTLS12, TLSInfo{"TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", 256, "NO"}},
		{"postfix verified", postfixIPv6, TLSInfo{"TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, "OK"}},
		{"sendmail", sendmailTLS, TLSInfo{"TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, "NOT"}},
		{"sendmail TLSv1/SSLv3", sendmailSSLv3, TLSInfo{VersionNotRecorded, "DHE-RSA-AES256-SHA", 256, "NOT"}},
		{"exim 4.96", eximTLS13, TLSInfo{"TLSv1.3", "TLS_AES_256_GCM_SHA384", 0, ""}},
		{"exim 4.94", eximTLS12, TLSInfo{"TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", 0, ""}},
		{"exim old", eximOld, TLSInfo{"TLSv1.2", "ECDHE_RSA_AES_256_GCM_SHA384", 256, ""}},
		{"microsoft", msTLS, TLSInfo{"TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", 0, ""}},
		{"gmail", gmailTLS, TLSInfo{"TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, ""}},
		{"gmail SMTPS", gmailSMTPS, TLSInfo{Version: VersionNotRecorded}},
		{"proofpoint", proofpointTLS, TLSInfo{"TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", 256, "NOT"}},
		{"sealpost", sealpostHTTPS, TLSInfo{"TLSv1.3", "TLS_AES_128_GCM_SHA256", 0, ""}},
		{"ESMTPSA keyword", otherESMTPSA, TLSInfo{Version: VersionNotRecorded}},
		{"LMTPS keyword", "Received: from a.example (a.example [203.0.113.1]) by b.example with LMTPS id 1; Mon, 23 Nov 2026 10:00:00 +0000",
			TLSInfo{Version: VersionNotRecorded}},
		{"exchange 2010", "Received: from a.example (203.0.113.1) by b.example (198.51.100.2) with Microsoft SMTP Server (TLS) id 14.3.498.0; Mon, 23 Nov 2026 10:00:00 +0000",
			TLSInfo{Version: VersionNotRecorded}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := analyzeOne(t, tc.field)
			if h.TLS == nil {
				t.Fatalf("no TLS found; class %s: %s", h.Class, h.Reason)
			}
			if *h.TLS != tc.want {
				t.Errorf("TLS = %+v, want %+v", *h.TLS, tc.want)
			}
			if h.Class != Encrypted {
				t.Errorf("class = %s", h.Class)
			}
		})
	}
}

func TestHopFields(t *testing.T) {
	t.Parallel()
	utc := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		name, field                            string
		from, addr, by, with, id, forr, tmText string
		timeErr                                bool
	}{
		{"postfix", postfixTLS13, "mail.example.net", "203.0.113.5", "mx.example.org", "ESMTPS", "4Ld8Xq2Hb9z9sT3", "bob@example.org", "2026-11-23T10:00:00Z", false},
		{"postfix IPv6 literal", postfixIPv6, "mail.example.net", "2001:db8::25", "mx.example.org", "ESMTPS", "4Ld8Xq4Q1Nz9sT5", "bob@example.org", "2026-11-23T10:00:00Z", false},
		{"exim bare IPv6 and helo", eximTLS12, "mail.example.net", "2001:db8::25", "mx.example.org", "ESMTPS", "1tABCE-000124-5Y", "", "2026-11-23T10:00:00Z", false},
		{"microsoft folded", msInternalTLS, "AM4PEPF00027A5F.eurprd04.prod.outlook.com", "2603:10a6:208:13c:cafe::7a", "DB9PR04MB8412.eurprd04.prod.outlook.com", "Microsoft SMTP Server", "15.20.8158.20", "", "2026-11-23T10:00:02Z", false},
		{"gmail PST comment", gmailTLS, "mail.example.net", "203.0.113.5", "mx.google.com", "ESMTPS", "d9443c01a7336-2a1b2c3d4e5si1234567b3.412.2026.11.23.02.00.00", "bob@gmail.com", "2026-11-23T10:00:00Z", false},
		{"sealpost literal", sealpostHTTP, "", "192.0.2.1", "sealpost.test", "HTTP", "msg_01JD5Y", "", "2026-11-23T10:00:00Z", false},
		{"qmail without from", qmailInvoked, "", "", "", "", "", "", "2026-11-23T10:00:00Z", false},
		{"missing date", "Received: from a.example ([203.0.113.1]) by b.example (Postfix) with ESMTP id X1", "a.example", "203.0.113.1", "b.example", "ESMTP", "X1", "", "", false},
		{"empty date", "Received: from a.example ([203.0.113.1]) by b.example with ESMTP id X1;  (no date) ", "a.example", "203.0.113.1", "b.example", "ESMTP", "X1", "", "", false},
		{"malformed date", "Received: from a.example ([203.0.113.1]) by b.example with ESMTP id X1; Mon, 32 Foo 2026 99:99 +0000", "a.example", "203.0.113.1", "b.example", "ESMTP", "X1", "", "", true},
		{"odd whitespace and nested comments", "Received:from   a.example\t(a.example  [IPv6:fd00::5] (really (nested)))\r\n\r\n", "a.example", "fd00::5", "", "", "", "", "", false},
		{"semicolon in comment", "Received: from a.example (odd; comment) by b.example with SMTP; Mon, 23 Nov 2026 10:00:00 UT", "a.example", "", "b.example", "SMTP", "", "", "2026-11-23T10:00:00Z", false},
		{"tabs and bare LF folding", "Received: from\ta.example\n\t([198.51.100.4])\n  by\tb.example\n\twith esmtp\n\tid\tQ; Mon, 23 Nov 2026\n  10:00:00 +0000", "a.example", "198.51.100.4", "b.example", "ESMTP", "Q", "", "2026-11-23T10:00:00Z", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := analyzeOne(t, tc.field)
			got := []string{h.From, h.FromAddr, h.By, h.With, h.ID, h.For}
			want := []string{tc.from, tc.addr, tc.by, tc.with, tc.id, tc.forr}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("field %d = %q, want %q (hop %+v)", i, got[i], want[i], h)
				}
			}
			var wantTime time.Time
			if tc.tmText != "" {
				wantTime = utc(tc.tmText)
			}
			if !h.Time.Equal(wantTime) {
				t.Errorf("time = %v, want %v", h.Time, wantTime)
			}
			if (h.TimeError != "") != tc.timeErr {
				t.Errorf("TimeError = %q, want error %v", h.TimeError, tc.timeErr)
			}
			if strings.ContainsAny(h.Raw, "\r\n") {
				t.Errorf("Raw not unfolded: %q", h.Raw)
			}
		})
	}
}
