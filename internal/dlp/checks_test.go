package dlp

import "testing"

// Validity rules, with published examples as vectors where they exist.
func TestValidators(t *testing.T) {
	t.Parallel()
	test := func(name string, f func(string) bool, valid, invalid []string) {
		t.Helper()
		for _, v := range valid {
			if !f(v) {
				t.Errorf("%s(%q) = false, want true", name, v)
			}
		}
		for _, v := range invalid {
			if f(v) {
				t.Errorf("%s(%q) = true, want false", name, v)
			}
		}
	}
	test("validSSN", validSSN,
		[]string{"123456789", "001010001", "899999999", "665123456", "667123456", "078051121"},
		[]string{"000123456", "666123456", "900123456", "999123456", "123006789", "123450000",
			"078051120", "219099999", "111111111", "12345678", "1234567890"})
	test("validNPI", validNPI,
		// 1234567893 is the example in the CMS check digit specification.
		[]string{"1234567893", "1245319599", "2000000002"},
		[]string{"1234567890", "1234567894", "3234567893", "0234567893", "123456789", "1111111111"})
	test("validABA", validABA,
		// Federal Reserve banks and large US banks publish these.
		[]string{"011000015", "021000021", "026009593", "111000025", "121000358", "322271627", "800000006"},
		[]string{"021000022", "131000020", "501000013", "000000000", "02100002", "921000028"})
	test("validDEA", validDEA,
		[]string{"AB1234563", "BJ6125341", "FN1234563", "XA1234563"},
		[]string{"AB1234564", "IB1234563", "ZB1234563", "A11234563", "AB123456", "AB12345634", "ab1234563"})
	test("validMBI", validMBI,
		// 1EG4TE5MK73 is the example on the CMS MBI format page.
		[]string{"1EG4TE5MK73", "9AA0AA0AA00", "2C99C99CC99"},
		[]string{"0EG4TE5MK73", "1SG4TE5MK73", "1EG4TB5MK73", "1EGATE5MK73", "1EG4TE5M173", "1EG4TE5MK7", "1EG4TE5MKZ3", "1eg4te5mk73"})
	test("validCard", validCard,
		// Networks' published test numbers.
		[]string{"4111111111111111", "4012888888881881", "4222222222222", "5555555555554444", "2223003122003222",
			"378282246310005", "371449635398431", "6011111111111117", "6011000990139424", "3530111333300000",
			"30569309025904", "38520000023237", "6200000000000005"},
		[]string{"4111111111111112", "1111111111111117", "9111111111111110", "411111111111111", "37828224631000",
			"5555555555554", "7000000000000006", "0000000000000000"})
	test("validICD", validICD,
		[]string{"E119", "I10", "Z794", "J45909", "F32A", "C50911", "S72001A", "T360X1A", "O9A111", "Z3A20",
			"U071", "U070", "U099", "M1A0710", "A00", "E89", "T88"},
		[]string{"U123", "U075", "U99", "E95", "H96", "K99", "P97", "T89", "A4B", "E1", "11E", "E11901234", "e119"})
}

// Dates: formats, both day/month orders, calendar rules.
func TestDateAt(t *testing.T) {
	t.Parallel()
	test := func(text, want string) {
		t.Helper()
		sg := newSegment(text, nil)
		s, got, ok := dateAt(sg, 0)
		if !ok || s != (span{0, len(text)}) {
			got = ""
		}
		if got != want {
			t.Errorf("parseDate(%q) = %q, want %q", text, got, want)
		}
	}
	test("03/04/1975", "1975-03-04")
	test("3/4/75", "1975-03-04")
	test("31/12/1980", "1980-12-31") // day first when month first is impossible
	test("1975-03-04", "1975-03-04")
	test("1975/3/4", "1975-03-04")
	test("04.03.1975", "1975-04-03")
	test("March 3, 1975", "1975-03-03")
	test("Sept. 21st, 1990", "1990-09-21")
	test("3 March 1975", "1975-03-03")
	test("03-MAR-1975", "1975-03-03")
	test("19750304", "1975-03-04")
	test("02/29/2000", "2000-02-29") // leap year
	test("02/29/1900", "")           // not a leap year
	test("02/30/1980", "")
	test("13/13/1975", "")
	test("04/31/1990", "")
	test("1899-12-31", "")
	test("00/12/1960", "")
	test("Marc 3, 1975", "")
	test("3 Mayday 1975", "")
	test("3rd of May 1975", "")
	test("03 / 04 / 1975", "1975-03-04")
	test("03/04/19756", "")
}

// Each detector through Scan: what is reported and how confidently.
func TestDetectors(t *testing.T) {
	t.Parallel()
	s, err := Compile(Rules{MRNPatterns: []string{`HX\d{8}`}, Keywords: []string{"HIV", "hepatitis C"}, Regexps: []string{`\bCLM-\d{6}\b`}}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	test := func(text string, cat Category, want Confidence) {
		t.Helper()
		var got Confidence
		for _, f := range s.Scan(Input{Text: text}) {
			if f.Category == cat {
				got = f.Confidence
			}
		}
		if got != want {
			t.Errorf("%q: %s confidence %q, want %q", text, cat, got, want)
		}
	}
	none := Confidence("")

	test("SSN: 123-45-6789", SSN, High)
	test("Please verify 123-45-6789 today", SSN, Medium)
	test("SSN 123 45 6789", SSN, High)
	test("social security number 123456789", SSN, High)
	test("123-45-6789 (SSN)", SSN, High)
	test("ref 123 45 6789", SSN, none)   // spaced, no context
	test("code 123456789", SSN, none)    // bare, no context
	test("SSN: 666-12-3456", SSN, none)  // area 666
	test("SSN: 900-12-3456", SSN, none)  // area 9xx
	test("SSN: 123-00-6789", SSN, none)  // group 00
	test("SSN: 123-45-0000", SSN, none)  // serial 0000
	test("SSN: 078-05-1120", SSN, none)  // advertising number
	test("Call 212-555-0143", SSN, none) // phone shape
	test("Order 123-45-6789", SSN, none) // against context
	test("x123-45-6789", SSN, none)      // part of a word
	test("SSN 123-45-67890", SSN, none)  // part of a longer number
	test("SSN: none. Order 123456789", SSN, none)
	test("Code 123456789. SSN follows", SSN, none) // a label after the value, in the next sentence

	test("NPI 1234567893", NPI, High)
	test("Dr. Lee 1234567893 in network", NPI, Medium)
	test("NPI: 123 456 7893", NPI, High)
	test("NPI 1234567890", NPI, none) // check digit
	test("Phone 2125550143", NPI, none)
	test("Dr. Lee 123 456 7893", NPI, none) // spaced, no context
	test("see https://x.example/a?t=1234567893", NPI, none)

	test("DEA: AB1234563", DEA, High)
	test("Signed AB1234563", DEA, Medium)
	test("dea ab1234563", DEA, High)
	test("Signed ab1234563", DEA, none) // lower case needs context
	test("DEA: AB1234564", DEA, none)
	test("DEA: IB1234563", DEA, none)

	test("MBI 1EG4-TE5-MK73", MBI, High)
	test("Member 1EG4TE5MK73", MBI, Medium)
	test("Medicare 1eg4te5mk73", MBI, High)
	test("MBI 1EG4-TE5-MK7S", MBI, none)

	test("Card: 4111 1111 1111 1111", Card, High)
	test("Charge 4111-1111-1111-1111", Card, Medium)
	test("Charge 4111111111111111", Card, Medium)
	test("Amex 3782 822463 10005", Card, High)
	test("Charge 41111 11111 111111", Card, none) // odd grouping, no context
	test("Card: 41111 11111 111111", Card, High)
	test("Card: 4111 1111 1111 1112", Card, none)
	test("Invoice 4111111111111111", Card, none)

	test("Routing 021000021", ABA, High)
	test("Bank 021000021", ABA, Medium)
	test("ABA: 021000022", ABA, none)
	test("SSN: 666263346", ABA, none) // another identifier's term

	test("MRN: 00451237", MRN, Medium)
	test("Record HX12345678", MRN, Medium)
	test("MRN HX12345678", MRN, High)
	test("MRN: pending", MRN, none)
	test("Medical record reviewed 2024-03-04", MRN, none)
	test("MRN: 2024-03-04", MRN, none) // a date, not a record number

	test("DOB: 03/04/1975", DOB, High)
	test("born on March 3, 1975", DOB, High)
	test("03/04/1975 (DOB)", DOB, High)
	test("Date of birth (MM/DD/YYYY): 03/04/1975", DOB, High)
	test("Visit on 03/04/1975", DOB, none)
	test("DOB: 02/30/1980", DOB, none)
	test("DOB: unknown. Surgery 03/04/2021", DOB, none)
	test("firstborn 03/04/1975", DOB, none)

	test("Dx: E11.9", ICD10, High)
	test("Diagnoses: E11.9; I10; Z79.4", ICD10, High)
	test("E11.9 (dx)", ICD10, High)
	test("SKU E11.9 in stock", ICD10, none)
	test("Dx: U12.3", ICD10, none)
	test("Dx: pending. Room B12", ICD10, none)

	test("history of HIV", Keyword, High)
	test("hepatitis\nC positive", Keyword, High)
	test("beehive", Keyword, none)
	test("HIVs", Keyword, none)

	test("Claim CLM-123456 denied", Regex, High)
	test("Claim CLM-1234567 denied", Regex, none)
}
