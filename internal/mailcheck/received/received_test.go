package received

import (
	"slices"
	"strings"
	"testing"
)

const (
	E = Encrypted
	P = Plaintext
	U = Unknown
	I = Internal
)

func TestAnalyzeCorpus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		fields  []string // newest first, as in the message
		classes []Class  // oldest first
		verdict string
		summary string
	}{
		{"postfix TLSv1.3 with pickup and LMTP back channel",
			[]string{postfixLMTPPrivate, postfixTLS13, postfixPickup}, []Class{I, E, I},
			VerdictEncrypted, "The only external hop was encrypted: TLSv1.3."},
		{"postfix TLSv1.2", []string{postfixTLS12}, []Class{E},
			VerdictEncrypted, "The only external hop was encrypted: TLSv1.2."},
		{"postfix plaintext then localhost", []string{postfixLocalhost, postfixPlain}, []Class{P, I},
			VerdictNotEncrypted, "Hop 1 (mx.example.net → mail.example.org, 2026-11-23 10:00:05 +0000) was probably sent without TLS: Postfix records TLS when used and recorded none."},
		{"postfix IPv6", []string{postfixIPv6}, []Class{E},
			VerdictEncrypted, "The only external hop was encrypted: TLSv1.3."},
		{"sendmail TLS", []string{sendmailTLS}, []Class{E},
			VerdictEncrypted, "The only external hop was encrypted: TLSv1.3."},
		{"sendmail TLSv1/SSLv3", []string{sendmailSSLv3}, []Class{E},
			VerdictEncrypted, "The only external hop was encrypted: SSL/TLS (version not recorded)."},
		{"sendmail plaintext", []string{sendmailPlain}, []Class{P},
			VerdictNotEncrypted, "Hop 1 (smtp.example.com → mail.example.org, 2026-11-23 10:00:00 -0500) was probably sent without TLS: sendmail records TLS when used and recorded none."},
		{"exim chain", []string{eximOld, eximTLS12, eximTLS13, eximLocal}, []Class{I, E, E, E},
			VerdictEncrypted, "All 3 external hops were encrypted: TLSv1.3, TLSv1.2."},
		{"exim plaintext", []string{eximPlain, eximTLS13}, []Class{E, P},
			VerdictNotEncrypted, "Hop 2 (mail.example.net → mx.example.org, 2026-11-23 10:00:00 +0000) was probably sent without TLS: Exim records TLS when used and recorded none."},
		{"microsoft chain", []string{msMapi, msInternalTLS, msTLS}, []Class{E, E, I},
			VerdictEncrypted, "All 2 external hops were encrypted: TLSv1.2."},
		{"microsoft frontend", []string{msFrontend}, []Class{I},
			VerdictUnknown, "The only hop was internal; no transfer between sites was recorded."},
		{"microsoft plaintext", []string{msPlain}, []Class{P},
			VerdictNotEncrypted, "Hop 1 (mail.example.net → EXCH01.example.org, 2026-11-23 10:00:01 +0000) was probably sent without TLS: Microsoft SMTP Server records TLS when used and recorded none."},
		{"gmail to gmail", []string{gmailSMTPS, gmailInternal}, []Class{I, E},
			VerdictEncrypted, "The only external hop was encrypted: SSL/TLS (version not recorded)."},
		{"gmail TLS then plaintext", []string{gmailPlain, gmailTLS}, []Class{E, P},
			VerdictNotEncrypted, "Hop 2 (mail.example.net → mx.google.com, 2026-11-23 02:00:00 -0800) was probably sent without TLS: Gmail (mx.google.com) records TLS when used and recorded none."},
		{"proofpoint", []string{proofpointTLS}, []Class{E},
			VerdictEncrypted, "The only external hop was encrypted: TLSv1.2."},
		{"proofpoint plaintext", []string{proofpointPlain}, []Class{P},
			VerdictNotEncrypted, "Hop 1 (mail.example.net → mx0a-00123401.pphosted.com, 2026-11-23 10:00:00 +0000) was probably sent without TLS: Proofpoint records TLS when used and recorded none."},
		{"sealpost HTTPS", []string{sealpostHTTPS}, []Class{E},
			VerdictEncrypted, "The only external hop was encrypted: TLSv1.3."},
		{"sealpost HTTP", []string{sealpostHTTP}, []Class{P},
			VerdictNotEncrypted, "Hop 1 ([192.0.2.1] → sealpost.test, 2026-11-23 10:00:00 +0000) was probably sent without TLS: Sealpost records TLS when used and recorded none."},
		{"sealpost from localhost", []string{sealpostLocal}, []Class{I},
			VerdictUnknown, "The only hop was internal; no transfer between sites was recorded."},
		{"mixed servers, plaintext wins over unknown",
			[]string{postfixLocalhost, otherSMTP, proofpointPlain, sealpostHTTPS}, []Class{E, P, U, I},
			VerdictNotEncrypted, "Hop 2 (mail.example.net → mx0a-00123401.pphosted.com, 2026-11-23 10:00:00 +0000) was probably sent without TLS: Proofpoint records TLS when used and recorded none."},
		{"unknown server", []string{otherSMTP, sendmailTLS}, []Class{E, U},
			VerdictUnknown, `Hop 2 (mail.example.net → mx.example.com, 2026-11-23 10:00:09 +0000) could not be checked: The receiving server is not known to record TLS, and the protocol "SMTP" does not say.`},
		{"bare RFC 3848 keyword and qmail", []string{qmailInvoked, otherESMTPSA}, []Class{E, I},
			VerdictEncrypted, "The only external hop was encrypted: SSL/TLS (version not recorded)."},
		{"no Received fields", nil, nil,
			VerdictUnknown, "No Received headers were found, so the route is unknown."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep, err := Analyze(strings.NewReader(message(tc.fields...)))
			if err != nil {
				t.Fatal(err)
			}
			var got []Class
			for i, h := range rep.Hops {
				got = append(got, h.Class)
				if h.Index != i+1 {
					t.Errorf("hop %d has Index %d", i+1, h.Index)
				}
				if h.Reason == "" || !strings.HasSuffix(h.Reason, ".") {
					t.Errorf("hop %d reason %q is not a sentence", h.Index, h.Reason)
				}
				if (h.Class == Encrypted) != (h.TLS != nil) {
					t.Errorf("hop %d: class %s with TLS %+v", h.Index, h.Class, h.TLS)
				}
			}
			if !slices.Equal(got, tc.classes) {
				t.Errorf("classes = %v, want %v", got, tc.classes)
				for _, h := range rep.Hops {
					t.Logf("hop %d: %s: %s", h.Index, h.Class, h.Reason)
				}
			}
			if rep.Verdict != tc.verdict {
				t.Errorf("verdict = %q, want %q", rep.Verdict, tc.verdict)
			}
			if rep.Summary != tc.summary {
				t.Errorf("summary = %q\nwant      %q", rep.Summary, tc.summary)
			}
		})
	}
}
