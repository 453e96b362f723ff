package dlp

// Validity rules of each identifier. Every function takes the value with separators
// removed (digits only, or upper-case letters and digits) and answers only from its
// structure.

// luhn reports whether the digits carry a valid Luhn (mod 10) check digit.
func luhn(digits string) bool {
	sum, double := 0, false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// uniform reports whether all digits are the same, as in placeholders like 000000000.
func uniform(digits string) bool {
	for i := 1; i < len(digits); i++ {
		if digits[i] != digits[0] {
			return false
		}
	}
	return true
}

// validSSN applies the SSA's never-issued rules to nine digits.
func validSSN(d string) bool {
	if len(d) != 9 || uniform(d) {
		return false
	}
	area, group, serial := d[:3], d[3:5], d[5:]
	switch {
	case area == "000", area == "666", area[0] == '9':
		return false
	case group == "00", serial == "0000":
		return false
	case d == "078051120", d == "219099999": // printed in advertising, never anyone's
		return false
	}
	return true
}

// validNPI checks a National Provider Identifier: ten digits starting 1 or 2 whose last
// digit is the Luhn check digit computed with the card-issuer prefix 80840 in front (the
// NPI is an ISO 7812 identifier under that prefix).
func validNPI(d string) bool {
	if len(d) != 10 || (d[0] != '1' && d[0] != '2') || uniform(d) {
		return false
	}
	// The prefix 80840 contributes a constant 24 to the Luhn sum.
	sum, double := 24, false
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

// validABA checks a bank routing transit number: a Federal Reserve routing symbol in
// the first two digits and the 3-7-1 weighted checksum.
func validABA(d string) bool {
	if len(d) != 9 || uniform(d) {
		return false
	}
	p := int(d[0]-'0')*10 + int(d[1]-'0')
	if !(p <= 12 || 21 <= p && p <= 32 || 61 <= p && p <= 72 || p == 80) {
		return false
	}
	w := [3]int{3, 7, 1}
	sum := 0
	for i := range 9 {
		sum += w[i%3] * int(d[i]-'0')
	}
	return sum%10 == 0
}

// validDEA checks a DEA registration number: a registrant-type letter, a second letter,
// six digits and a check digit equal to the last digit of (d1+d3+d5) + 2*(d2+d4+d6).
func validDEA(s string) bool {
	if len(s) != 9 || !isUpper(s[1]) {
		return false
	}
	switch s[0] {
	case 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'L', 'M', 'P', 'R', 'S', 'T', 'U', 'X':
	default:
		return false
	}
	var d [7]int
	for i := range 7 {
		c := s[2+i]
		if !isDigit(c) {
			return false
		}
		d[i] = int(c - '0')
	}
	return (d[0]+d[2]+d[4]+2*(d[1]+d[3]+d[5]))%10 == d[6]
}

// mbiLetter reports whether c may appear as a letter in an MBI: CMS leaves out S, L, O,
// I, B and Z, which read like digits.
func mbiLetter(c byte) bool {
	return isUpper(c) && c != 'S' && c != 'L' && c != 'O' && c != 'I' && c != 'B' && c != 'Z'
}

// validMBI checks the Medicare Beneficiary Identifier position rules (CMS format
// specification): C A AN N A AN N A A N N, where C is a digit 1-9.
func validMBI(s string) bool {
	if len(s) != 11 {
		return false
	}
	alnum := func(c byte) bool { return isDigit(c) || mbiLetter(c) }
	return s[0] >= '1' && s[0] <= '9' && mbiLetter(s[1]) && alnum(s[2]) && isDigit(s[3]) &&
		mbiLetter(s[4]) && alnum(s[5]) && isDigit(s[6]) && mbiLetter(s[7]) && mbiLetter(s[8]) &&
		isDigit(s[9]) && isDigit(s[10])
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }

// validCard checks a payment card number: Luhn check digit and a length that the
// issuer identification number's network uses.
func validCard(d string) bool {
	if len(d) < 13 || len(d) > 19 || uniform(d) || !luhn(d) {
		return false
	}
	n := len(d)
	p2, p3, p4, p6 := atoi(d[:2]), atoi(d[:3]), atoi(d[:4]), atoi(d[:6])
	switch {
	case d[0] == '4': // Visa
		return n == 13 || n == 16 || n == 19
	case 51 <= p2 && p2 <= 55, 2221 <= p4 && p4 <= 2720: // Mastercard
		return n == 16
	case p2 == 34, p2 == 37: // American Express
		return n == 15
	case p4 == 6011, 644 <= p3 && p3 <= 649, p2 == 65, 622126 <= p6 && p6 <= 622925: // Discover
		return n >= 16
	case 3528 <= p4 && p4 <= 3589: // JCB
		return n >= 16
	case 300 <= p3 && p3 <= 305, p2 == 36, p2 == 38, p2 == 39: // Diners Club
		return n >= 14
	case p2 == 62: // UnionPay
		return n >= 16
	}
	return false
}

func atoi(d string) int {
	v := 0
	for i := 0; i < len(d); i++ {
		v = v*10 + int(d[i]-'0')
	}
	return v
}
