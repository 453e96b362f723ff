package dkimsign

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
)

// Test vectors from RFC 8463 Appendix A: the Ed25519 key (A.1, A.2) and the
// example message with its Ed25519 and RSA signatures (A.3).
const (
	rfcSeed      = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A="
	rfcPublic    = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
	rfcRSARecord = "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWR" +
		"iGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutAC" +
		"DfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3" +
		"Ip3G+2kryOTIKT+l/K4w3QIDAQAB"
	rfcBodyHash = "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8="
	rfcEdSig    = "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n" +
		" d=football.example.com; i=@football.example.com;\r\n" +
		" q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n" +
		" subject : date : message-id : from : subject : date;\r\n" +
		" bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n" +
		" b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n" +
		" Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\r\n"
	rfcRSASig = "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n" +
		" d=football.example.com; i=@football.example.com;\r\n" +
		" q=dns/txt; s=test; t=1528637909; h=from : to : subject :\r\n" +
		" date : message-id : from : subject : date;\r\n" +
		" bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n" +
		" b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\r\n" +
		" DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\r\n" +
		" dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=\r\n"
	rfcHeader = "From: Joe SixPack <joe@football.example.com>\r\n" +
		"To: Suzie Q <suzie@shopping.example.net>\r\n" +
		"Subject: Is dinner ready?\r\n" +
		"Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n" +
		"Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
	rfcBody = "Hi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n\r\nJoe.\r\n\r\n"
)

func rfcKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	seed, err := base64.StdEncoding.DecodeString(rfcSeed)
	if err != nil {
		t.Fatal(err)
	}
	return ed25519.NewKeyFromSeed(seed)
}

// relaxedHeader canonicalises one header field (RFC 6376 3.4.2); written
// independently of the library under test.
func relaxedHeader(field string) string {
	name, value, _ := strings.Cut(field, ":")
	value = strings.NewReplacer("\r\n", "", "\t", " ").Replace(value)
	return strings.ToLower(strings.TrimSpace(name)) + ":" + strings.Join(strings.Fields(value), " ")
}

// relaxedBody canonicalises a body (RFC 6376 3.4.4).
func relaxedBody(body string) string {
	lines := strings.Split(strings.TrimSuffix(body, "\r\n"), "\r\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(strings.Join(strings.FieldsFunc(l, func(r rune) bool { return r == ' ' || r == '\t' }), " "), " ")
		if strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t") {
			lines[i] = " " + lines[i]
		}
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\r\n") + "\r\n"
}

func TestRFC8463Key(t *testing.T) {
	t.Parallel()
	key := rfcKey(t)
	name, record, err := DNSRecord("brisbane", "football.example.com", key.Public())
	if err != nil {
		t.Fatal(err)
	}
	if name != "brisbane._domainkey.football.example.com" || record != "v=DKIM1; k=ed25519; p="+rfcPublic {
		t.Fatalf("record %s %q", name, record)
	}
	pemBytes, err := MarshalPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParsePrivateKey(pemBytes)
	if err != nil || !back.(ed25519.PrivateKey).Equal(key) {
		t.Fatalf("round trip: %v", err)
	}
}

// TestRFC8463Signature recomputes the published Ed25519 signature from the
// RFC's key and message, and checks both verifiers accept the published
// message.
func TestRFC8463Signature(t *testing.T) {
	t.Parallel()
	key := rfcKey(t)
	if bh := sha256.Sum256([]byte(relaxedBody(rfcBody))); base64.StdEncoding.EncodeToString(bh[:]) != rfcBodyHash {
		t.Fatalf("body hash %x", bh)
	}

	// RFC 6376 3.7: the signed header fields in h= order, then the
	// signature field itself with an empty b= and no final CRLF.
	var data strings.Builder
	for _, f := range strings.SplitAfter(strings.TrimSuffix(rfcHeader, "\r\n"), "\r\n") {
		data.WriteString(relaxedHeader(f) + "\r\n")
	}
	sigField := rfcEdSig[:strings.Index(rfcEdSig, "b=/")+2]
	data.WriteString(relaxedHeader(sigField))
	hash := sha256.Sum256([]byte(data.String()))
	got := base64.StdEncoding.EncodeToString(ed25519.Sign(key, hash[:])) // RFC 8463 3: Ed25519 over the SHA-256 hash
	want := strings.Join(strings.Fields(rfcEdSig[strings.Index(rfcEdSig, "b=/")+2:]), "")
	if got != want {
		t.Fatalf("signature\n got %s\nwant %s", got, want)
	}

	message := []byte(rfcEdSig + rfcRSASig + rfcHeader + "\r\n" + rfcBody)
	_, edRecord, _ := DNSRecord("brisbane", "football.example.com", key.Public())
	if err := goVerify(message, "brisbane._domainkey.football.example.com", edRecord); err == nil {
		t.Error("go verifier accepted the RSA signature without its key")
	}
	both := func(domain string) ([]string, error) {
		if strings.HasPrefix(domain, "brisbane.") {
			return []string{edRecord}, nil
		}
		return []string{rfcRSARecord}, nil
	}
	if err := verifyWith(message, both); err != nil {
		t.Errorf("go verifier on RFC 8463 A.3: %v", err)
	}
	if !pythonVerify(t, message, "brisbane._domainkey.football.example.com", edRecord) {
		t.Error("python3-dkim rejected RFC 8463 A.3")
	}
}

// TestRFC8463SignerBodyHash checks our signer canonicalises the RFC's
// message to the published body hash.
func TestRFC8463SignerBodyHash(t *testing.T) {
	t.Parallel()
	s := &Signer{Domain: "football.example.com", Selector: "brisbane", Key: rfcKey(t)}
	var out bytes.Buffer
	if err := s.Sign(&out, strings.NewReader(rfcHeader+"\r\n"+rfcBody)); err != nil {
		t.Fatal(err)
	}
	bh := regexp.MustCompile(`bh=([^;]+);`).FindSubmatch(out.Bytes())
	if bh == nil || string(bh[1]) != rfcBodyHash {
		t.Fatalf("bh %q in\n%s", bh, out.Bytes())
	}
	_, record, _ := DNSRecord("brisbane", "football.example.com", s.Key.Public())
	if err := goVerify(out.Bytes(), "brisbane._domainkey.football.example.com", record); err != nil {
		t.Error(err)
	}
}
