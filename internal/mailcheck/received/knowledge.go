package received

import "strings"

// Recorder is receiving software, or a hosted mail service, known to write
// TLS into its Received fields whenever a session used it. A hop it
// recorded without TLS was therefore probably sent in the clear, where the
// same hop recorded by an unknown server can only be "unknown".
//
// Each entry says how the receiver is recognised, how it records TLS, and
// where that form is documented, so the table can be reviewed entry by
// entry. Forms marked as seen in published chains are also fixtures in
// testdata/chains.
type Recorder struct {
	// Name appears in hop reasons: "Postfix records TLS when used and
	// recorded none."
	Name string
	// Tags are comments right after the by or with clause that name the
	// software: "Postfix", "Exim 4.96", "PPS". "*" matches any run of
	// characters and "#" one or more digits and dots ("8.#/8.#" is
	// sendmail's version pair).
	Tags []string
	// Hosts are receiving host patterns (the by clause): "mx.google.com",
	// "*.pphosted.com" (a "*." prefix matches any subdomain).
	Hosts []string
	// With is a with-clause prefix that names the software ("Microsoft SMTP
	// Server").
	With string
	// Own are host patterns of the service's own network: a hand-off "via …
	// Transport" counts as internal only when the sender is one of them.
	Own []string
	// Records is how the receiver writes TLS when it was used.
	Records string
	// Evidence is where the form is documented or published.
	Evidence string
}

// Recorders is the knowledge table, most specific first: the first entry
// that matches a hop names its receiver.
func Recorders() []Recorder {
	return []Recorder{
		{
			Name: "Sealpost", Tags: []string{"Sealpost"},
			Records:  `"with HTTPS" and "(using TLSv1.3 with cipher …)" for API and portal requests that reached it over TLS; "with HTTP" otherwise`,
			Evidence: "this project: internal/pipeline receivedHeader",
		},
		{
			Name: "Sealpost dev receiver", Tags: []string{"Sealpost devnet"},
			Records:  `RFC 3848 keyword (ESMTPS, ESMTPSA) and "(using TLSv1.3 with cipher …)" after STARTTLS`,
			Evidence: "this project: internal/devnet traceLine",
		},
		{
			Name: "Postfix", Tags: []string{"Postfix", "Postfix, *"},
			Records: `RFC 3848 keyword (ESMTPS/ESMTPSA) whenever TLS was used; with smtpd_tls_received_header = yes also ` +
				`"(using TLSv1.3 with cipher … (256/256 bits))" after the from clause`,
			Evidence: "Postfix TLS_README (smtpd_tls_received_header) and postconf(5); RFC 3848",
		},
		{
			Name: "Exim", Tags: []string{"Exim *"},
			Records: `"with esmtps (TLS1.3) tls CIPHER" in the default received_header_text (Exim 4.93 and later: the RFC 8314 "tls" clause); ` +
				`older releases "(TLS1.2:CIPHER:256)"`,
			Evidence: "Exim specification, main configuration option received_header_text; RFC 8314 7.4 (tls clause)",
		},
		{
			Name: "sendmail", Tags: []string{"8.#/8.#", "8.#/8.#/*"},
			Records:  `"(version=TLSv1.3 cipher=… bits=256 verify=NOT)" from the default Received header macro ($?{tls_version})`,
			Evidence: "sendmail cf/README, confRECEIVED_HEADER; sendmail Installation and Operation Guide, macros ${tls_version} ${cipher} ${cipher_bits} ${verify}",
		},
		{
			Name: "Proofpoint", Tags: []string{"PPS"}, Hosts: []string{"*.pphosted.com"},
			Records: `sendmail's "(version=TLSv1.2 cipher=… bits=256 verify=NOT)" after "with ESMTPS"; hosted (*.pphosted.com) and on-premise ` +
				`Proofpoint Protection Server alike tag the by clause "(PPS)"`,
			Evidence: "published chains through mx0a-…pphosted.com (PPS); the form is sendmail's, on which Proofpoint Protection Server is built",
		},
		{
			Name: "Proofpoint Essentials", Tags: []string{"PPE Hosted ESMTP Server"}, Hosts: []string{"*.ppe-hosted.com"},
			Records:  `RFC 3848 keyword: "with ESMTPS" when TLS was used, "with ESMTP" when not`,
			Evidence: "published chains through mx1-us1.ppe-hosted.com (PPE Hosted ESMTP Server); RFC 3848",
		},
		{
			Name: "Mimecast", Hosts: []string{"*.mimecast.com"},
			Records:  `"with ESMTP with STARTTLS (version=TLSv1.3, cipher=…)" when TLS was used, "with ESMTP" when not`,
			Evidence: "published chains through relay.mimecast.com; Mimecast Secure Receipt policy documentation (TLS on receipt)",
		},
		{
			Name: "Microsoft 365 (Exchange Online)", Hosts: []string{"*.protection.outlook.com", "*.prod.outlook.com", "*.outlook.office365.com"},
			Own: []string{"*.outlook.com", "*.office365.com"},
			Records: `"with Microsoft SMTP Server (version=TLS1_2, cipher=…)" when TLS was used; the hop into Exchange Online Protection ` +
				`ends "via Frontend Transport" whatever the sender`,
			Evidence: "published chains through *.mail.protection.outlook.com, *.outbound.protection.outlook.com and *.prod.outlook.com; Microsoft Learn, Exchange Online mail flow (TLS between Exchange Online servers)",
		},
		{
			Name: "Microsoft SMTP Server", With: "Microsoft SMTP Server",
			Records:  `"with Microsoft SMTP Server (version=TLS1_2, cipher=…)" when TLS was used, "(TLS)" on Exchange 2010`,
			Evidence: "published chains through on-premises Exchange Server 2013-2019 (id 15.x) and Exchange 2010 (\"(TLS)\")",
		},
		{
			Name: "Gmail (mx.google.com)", Hosts: []string{"mx.google.com"},
			Records:  `"with ESMTPS … (version=TLS1_3 cipher=… bits=256/256)", or "with SMTPS … (Google Transport Security)" between Google servers`,
			Evidence: "Google Workspace Admin Help: trace an email with its full headers (Show original); Google Transparency Report, email encryption in transit",
		},
		{
			Name: "Google", Hosts: []string{"*.google.com", "smtp.gmail.com", "smtp-relay.gmail.com"},
			Records:  `as mx.google.com: RFC 3848 keyword with "(version=TLS1_3 cipher=… bits=256/256)"`,
			Evidence: "published chains: smtp.gmail.com (submission, ESMTPSA) and Google's other servers write the same form as mx.google.com",
		},
	}
}

// matches reports whether the receiver of p and h is r.
func (r *Recorder) matches(p *parsed, h Hop) bool {
	for _, kw := range []string{"by", "with", "via", "id", "for", "tls"} {
		for _, cm := range p.clauseComments(kw) {
			for _, t := range r.Tags {
				if globMatch(t, cm) {
					return true
				}
			}
		}
	}
	if hostIn(h.By, r.Hosts) {
		return true
	}
	return r.With != "" && strings.HasPrefix(strings.ToUpper(h.With), strings.ToUpper(r.With))
}

// recorderOf returns the first entry that matches the hop, or nil.
func recorderOf(p *parsed, h Hop) *Recorder {
	table := Recorders()
	for i := range table {
		if table[i].matches(p, h) {
			return &table[i]
		}
	}
	return nil
}

// hostIn reports whether host matches one of the patterns: exact, or any
// subdomain for a "*." pattern. Case and a trailing dot do not count.
func hostIn(host string, patterns []string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "" {
		return false
	}
	for _, p := range patterns {
		p = strings.ToLower(p)
		if suffix, ok := strings.CutPrefix(p, "*."); ok {
			if strings.HasSuffix(host, "."+suffix) {
				return true
			}
		} else if host == p {
			return true
		}
	}
	return false
}

// globMatch matches s against a pattern where "*" is any run of characters
// and "#" one or more digits and dots.
func globMatch(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if globMatch(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '#':
		i := 0
		for i < len(s) && (s[i] == '.' || (s[i] >= '0' && s[i] <= '9')) {
			i++
			if globMatch(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	}
	return s != "" && s[0] == pattern[0] && globMatch(pattern[1:], s[1:])
}
