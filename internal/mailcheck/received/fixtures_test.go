package received

import "strings"

// Received fields in the formats real servers write, folded as they fold
// them. Addresses come from the documentation ranges (RFC 5737, RFC 3849).
const (
	postfixTLS13 = "Received: from mail.example.net (mail.example.net [203.0.113.5])\r\n" +
		"\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\r\n" +
		"\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)\r\n" +
		"\t(No client certificate requested)\r\n" +
		"\tby mx.example.org (Postfix) with ESMTPS id 4Ld8Xq2Hb9z9sT3\r\n" +
		"\tfor <bob@example.org>; Mon, 23 Nov 2026 10:00:00 +0000 (UTC)"
	postfixTLS12 = "Received: from relay.example.com (relay.example.com [198.51.100.7])\r\n" +
		"\t(using TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits))\r\n" +
		"\t(Client did not present a certificate)\r\n" +
		"\tby mail.example.org (Postfix) with ESMTPS id 3F2A11C0123\r\n" +
		"\tfor <carol@example.org>; Mon, 23 Nov 2026 09:58:12 +0100 (CET)"
	postfixPlain = "Received: from mx.example.net (mx.example.net [203.0.113.25])\r\n" +
		"\tby mail.example.org (Postfix) with ESMTP id 9B8C7D6E5F\r\n" +
		"\tfor <bob@example.org>; Mon, 23 Nov 2026 10:00:05 +0000 (UTC)"
	postfixPickup = "Received: by mail.example.net (Postfix, from userid 1000)\r\n" +
		"\tid 1A2B3C4D5E; Mon, 23 Nov 2026 09:59:58 +0000 (UTC)"
	postfixLocalhost = "Received: from localhost (localhost [127.0.0.1])\r\n" +
		"\tby mail.example.org (Postfix) with ESMTP id 4Ld8Xq3Zs1z9sT4\r\n" +
		"\tfor <bob@example.org>; Mon, 23 Nov 2026 10:00:07 +0000 (UTC)"
	postfixLMTPPrivate = "Received: from mx.example.org (mx.example.org [10.1.0.5])\r\n" +
		"\tby imap.example.org (Postfix) with LMTP id 0F1E2D3C4B\r\n" +
		"\tfor <bob@example.org>; Mon, 23 Nov 2026 10:00:02 +0000 (UTC)"
	postfixIPv6 = "Received: from mail.example.net (mail.example.net [IPv6:2001:db8::25])\r\n" +
		"\t(using TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits)\r\n" +
		"\t key-exchange X25519 server-signature ECDSA (P-256) server-digest SHA256)\r\n" +
		"\t(Client CN \"mail.example.net\", Issuer \"Example CA\" (verified OK))\r\n" +
		"\tby mx.example.org (Postfix) with ESMTPS id 4Ld8Xq4Q1Nz9sT5\r\n" +
		"\tfor <bob@example.org>; Mon, 23 Nov 2026 10:00:00 +0000 (UTC)"

	sendmailTLS = "Received: from mail.example.net (mail.example.net [203.0.113.5])\r\n" +
		"\tby mx.example.org (8.17.1/8.17.1) with ESMTPS id 2ANA00011234567\r\n" +
		"\t(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 verify=NOT)\r\n" +
		"\tfor <bob@example.org>; Mon, 23 Nov 2026 10:00:00 GMT"
	sendmailSSLv3 = "Received: from smtp.example.com (smtp.example.com [198.51.100.9])\r\n" +
		"\tby mail.example.org (8.14.4/8.14.4) with ESMTP id oANF0AbC012345\r\n" +
		"\t(version=TLSv1/SSLv3 cipher=DHE-RSA-AES256-SHA bits=256 verify=NOT)\r\n" +
		"\tfor <dave@example.org>; Mon, 23 Nov 2026 10:00:00 -0500"
	sendmailPlain = "Received: from smtp.example.com (smtp.example.com [198.51.100.9])\r\n" +
		"\tby mail.example.org (8.15.2/8.15.2) with ESMTP id 2ANF0abc001234\r\n" +
		"\tfor <dave@example.org>; Mon, 23 Nov 2026 10:00:00 -0500"

	eximTLS13 = "Received: from mail.example.net ([203.0.113.5])\r\n" +
		"\tby mx.example.org with esmtps  (TLS1.3) tls TLS_AES_256_GCM_SHA384\r\n" +
		"\t(Exim 4.96)\r\n" +
		"\t(envelope-from <alice@example.net>)\r\n" +
		"\tid 1tABCD-000123-4X\r\n" +
		"\tfor bob@example.org; Mon, 23 Nov 2026 10:00:00 +0000"
	eximTLS12 = "Received: from [2001:db8::25] (helo=mail.example.net)\r\n" +
		"\tby mx.example.org with esmtps (TLS1.2) tls TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\r\n" +
		"\t(Exim 4.94.2)\r\n" +
		"\t(envelope-from <alice@example.net>)\r\n" +
		"\tid 1tABCE-000124-5Y; Mon, 23 Nov 2026 10:00:00 +0000"
	eximOld = "Received: from mail.example.net ([203.0.113.5] helo=mail.example.net)\r\n" +
		"\tby mx.example.org with esmtps (TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256)\r\n" +
		"\t(Exim 4.92)\r\n" +
		"\t(envelope-from <alice@example.net>)\r\n" +
		"\tid 1tABCF-000125-6Z; Mon, 23 Nov 2026 10:00:00 +0000"
	eximPlain = "Received: from mail.example.net ([203.0.113.5] helo=mail.example.net)\r\n" +
		"\tby mx.example.org with esmtp (Exim 4.96)\r\n" +
		"\t(envelope-from <alice@example.net>)\r\n" +
		"\tid 1tABCG-000126-7A; Mon, 23 Nov 2026 10:00:00 +0000"
	eximLocal = "Received: from alice by mail.example.net with local (Exim 4.96)\r\n" +
		"\t(envelope-from <alice@example.net>)\r\n" +
		"\tid 1tABCC-000100-1A\r\n" +
		"\tfor bob@example.org; Mon, 23 Nov 2026 09:59:59 +0000"

	msTLS = "Received: from mail.example.net (203.0.113.5) by\r\n" +
		" AM4PEPF00027A5F.mail.protection.outlook.com (10.167.16.73) with Microsoft SMTP\r\n" +
		" Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id\r\n" +
		" 15.20.8158.14 via Frontend Transport; Mon, 23 Nov 2026 10:00:01 +0000"
	msInternalTLS = "Received: from AM4PEPF00027A5F.eurprd04.prod.outlook.com\r\n" +
		" (2603:10a6:208:13c:cafe::7a) by DB9PR04MB8412.eurprd04.prod.outlook.com\r\n" +
		" (2603:10a6:10:2c5::21) with Microsoft SMTP Server (version=TLS1_2,\r\n" +
		" cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.8158.20; Mon, 23 Nov\r\n" +
		" 2026 10:00:02 +0000"
	msFrontend = "Received: from mail.example.net (203.0.113.5) by EXCH01.example.org\r\n" +
		" (198.51.100.20) with Microsoft SMTP Server id 15.1.2507.39 via Frontend\r\n" +
		" Transport; Mon, 23 Nov 2026 10:00:01 +0000"
	msPlain = "Received: from mail.example.net (203.0.113.5) by EXCH01.example.org\r\n" +
		" (198.51.100.20) with Microsoft SMTP Server id 15.1.2507.39; Mon, 23 Nov 2026\r\n" +
		" 10:00:01 +0000"
	msMapi = "Received: from DB9PR04MB8412.eurprd04.prod.outlook.com\r\n" +
		" ([fe80::5c1a:2b3c:4d5e:6f70]) by DB9PR04MB8412.eurprd04.prod.outlook.com\r\n" +
		" ([fe80::5c1a:2b3c:4d5e:6f70%7]) with mapi id 15.20.8158.013; Mon, 23 Nov 2026\r\n" +
		" 09:59:59 +0000"

	gmailTLS = "Received: from mail.example.net (mail.example.net. [203.0.113.5])\r\n" +
		"        by mx.google.com with ESMTPS id d9443c01a7336-2a1b2c3d4e5si1234567b3.412.2026.11.23.02.00.00\r\n" +
		"        for <bob@gmail.com>\r\n" +
		"        (version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256);\r\n" +
		"        Mon, 23 Nov 2026 02:00:00 -0800 (PST)"
	gmailSMTPS = "Received: from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41])\r\n" +
		"        by mx.google.com with SMTPS id a640c23a62f3a-abc1234sor4567890a.12.2026.11.23.02.00.00\r\n" +
		"        for <bob@gmail.com>\r\n" +
		"        (Google Transport Security);\r\n" +
		"        Mon, 23 Nov 2026 02:00:00 -0800 (PST)"
	gmailPlain = "Received: from mail.example.net (mail.example.net. [203.0.113.5])\r\n" +
		"        by mx.google.com with ESMTP id d9443c01a7336-2a1b2c3d4e5si1234568b3.413.2026.11.23.02.00.00\r\n" +
		"        for <bob@gmail.com>;\r\n" +
		"        Mon, 23 Nov 2026 02:00:00 -0800 (PST)"
	gmailInternal = "Received: by 2002:a05:6402:3591:b0:5d0:8f2e:9c1a with SMTP id y17csp1234567edd;\r\n" +
		"        Mon, 23 Nov 2026 01:59:59 -0800 (PST)"

	proofpointTLS = "Received: from mail.example.net (mail.example.net [203.0.113.5])\r\n" +
		"\tby mx0a-00123401.pphosted.com (PPS) with ESMTPS id 4abcd1efgh-1\r\n" +
		"\t(version=TLSv1.2 cipher=ECDHE-RSA-AES256-GCM-SHA384 bits=256 verify=NOT)\r\n" +
		"\tfor <bob@example.org>; Mon, 23 Nov 2026 10:00:00 +0000"
	proofpointPlain = "Received: from mail.example.net (mail.example.net [203.0.113.5])\r\n" +
		"\tby mx0a-00123401.pphosted.com (PPS) with ESMTP id 4abcd1efgh-2\r\n" +
		"\tfor <bob@example.org>; Mon, 23 Nov 2026 10:00:00 +0000"

	sealpostHTTPS = "Received: from [192.0.2.1]\r\n\tby sealpost.test (Sealpost) with HTTPS id msg_01JD5X\r\n" +
		"\t(using TLSv1.3 with cipher TLS_AES_128_GCM_SHA256);\r\n\tMon, 23 Nov 2026 10:00:00 +0000"
	sealpostHTTP = "Received: from [192.0.2.1]\r\n\tby sealpost.test (Sealpost) with HTTP id msg_01JD5Y;\r\n" +
		"\tMon, 23 Nov 2026 10:00:00 +0000"
	sealpostLocal = "Received: from localhost\r\n\tby sealpost.test (Sealpost) with HTTP id msg_01JD5Z;\r\n" +
		"\tMon, 23 Nov 2026 10:00:00 +0000"

	otherSMTP = "Received: from mail.example.net (mail.example.net [203.0.113.5])\r\n" +
		"\tby mx.example.com with SMTP id abc123; Mon, 23 Nov 2026 10:00:09 +0000"
	otherESMTPSA = "Received: from [198.51.100.33] (port=50123)\r\n" +
		"\tby smtp.example.com with ESMTPSA id xyz789; Mon, 23 Nov 2026 09:59:00 +0000"
	qmailInvoked = "Received: (qmail 12345 invoked by uid 89); 23 Nov 2026 10:00:00 -0000"
)

// message joins header fields, newest first, into a message with a body.
func message(fields ...string) string {
	return strings.Join(fields, "\r\n") + "\r\nSubject: test\r\n\r\nReceived: from body by body with ESMTP\r\n"
}

// More generated forms, one or more per knowledge-table entry the published chains
// do not cover.
const (
	devnetTLS = "Received: from sealpost.test ([192.0.2.1])\r\n\t(using TLSv1.3 with cipher TLS_AES_128_GCM_SHA256)\r\n" +
		"\tby mx.example.org (Sealpost devnet) with ESMTPS id 7\r\n\tfor <bob@example.org>;\r\n\tMon, 23 Nov 2026 10:00:01 +0000"
	devnetPlain = "Received: from sealpost.test ([192.0.2.1])\r\n" +
		"\tby mx.example.org (Sealpost devnet) with ESMTP id 8\r\n\tfor <bob@example.org>;\r\n\tMon, 23 Nov 2026 10:00:01 +0000"
	gmailSubmission = "Received: from [192.168.1.20] ([203.0.113.77])\r\n" +
		"        by smtp.gmail.com with ESMTPSA id 5b1f17b1804b1-4362552ce62sm1234567f8f.2.2026.11.23.02.00.00\r\n" +
		"        for <bob@example.org>\r\n" +
		"        (version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256);\r\n" +
		"        Mon, 23 Nov 2026 02:00:00 -0800 (PST)"
	googleRelayPlain = "Received: from mail.example.net (mail.example.net. [203.0.113.5])\r\n" +
		"        by smtp-relay.gmail.com with ESMTP id d9443c01a7336-2a1b2c3d4e5sm1234567b3.413.2026.11.23.02.00.00;\r\n" +
		"        Mon, 23 Nov 2026 02:00:00 -0800 (PST)"
	mimecastPlain = "Received: from mail.example.net (mail.example.net [203.0.113.25]) by\r\n" +
		" us-smtp-inbound-1.mimecast.com with ESMTP id us-mta-1-AbCd-1; Mon, 23 Nov 2026 10:00:00 -0500"
)

// generatedFields are every generated field, for checks over the whole set.
var generatedFields = []string{postfixTLS13, postfixTLS12, postfixPlain, postfixPickup, postfixLocalhost, postfixLMTPPrivate, postfixIPv6,
	sendmailTLS, sendmailSSLv3, sendmailPlain, eximTLS13, eximTLS12, eximOld, eximPlain, eximLocal,
	msTLS, msInternalTLS, msFrontend, msPlain, msMapi, gmailTLS, gmailSMTPS, gmailPlain, gmailInternal,
	proofpointTLS, proofpointPlain, sealpostHTTPS, sealpostHTTP, sealpostLocal, otherSMTP, otherESMTPSA, qmailInvoked,
	devnetTLS, devnetPlain, gmailSubmission, googleRelayPlain, mimecastPlain}
