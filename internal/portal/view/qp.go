package view

import "bytes"

// decodeQP decodes a whole quoted-printable body held in memory, byte for byte as
// mime/quotedprintable's Reader does (its leniencies included: "=\n" as a soft
// break, a lone "=" kept when not followed by two hex digits, bytes of 0x80 and up
// passed through, white space trimmed at line ends). Wherever that Reader would stop
// with an error — or read a line longer than its buffer — ok is false and the caller
// uses the Reader itself, so what it keeps of a broken body stays exactly what it was.
// The Reader goes a byte at a time through two layers of buffering; every message the
// archive indexes and every portal view decodes its text this way.
func decodeQP(src []byte) (out []byte, ok bool) {
	out = make([]byte, 0, len(src))
	for len(src) > 0 {
		var whole []byte
		i := bytes.IndexByte(src, '\n')
		if i >= qpReaderBuffer || (i < 0 && len(src) >= qpReaderBuffer) {
			return nil, false // the Reader's ReadSlice would fail with a full buffer
		}
		atEOF := i < 0
		if atEOF {
			whole, src = src, nil
		} else {
			whole, src = src[:i+1], src[i+1:]
		}
		n := len(whole)
		for n > 0 && isQPSpace(whole[n-1]) {
			n--
		}
		line := whole[:n]
		var eol []byte
		if n > 0 && line[n-1] == '=' {
			rest := whole[n:]
			for len(rest) > 0 && (rest[0] == ' ' || rest[0] == '\t') {
				rest = rest[1:]
			}
			line = line[:n-1]
			if !bytes.HasPrefix(rest, []byte("\n")) && !bytes.HasPrefix(rest, []byte("\r\n")) && (len(rest) != 0 || len(line) == 0 || !atEOF) {
				return nil, false
			}
		} else if !atEOF {
			eol = []byte("\n")
			if bytes.HasSuffix(whole, []byte("\r\n")) {
				eol = []byte("\r\n")
			}
		}
		// The Reader decodes the trimmed line with its line end put back: an
		// escape's second digit may only be that line end, never a digit.
		for j := 0; j < len(line); {
			k := j
			for k < len(line) && qpPlain[line[k]] {
				k++
			}
			out = append(out, line[j:k]...)
			if j = k; j == len(line) {
				break
			}
			if line[j] != '=' {
				return nil, false // a byte the Reader refuses
			}
			if j+2 < len(line) {
				if hi, ok := unhex(line[j+1]); ok {
					if lo, ok := unhex(line[j+2]); ok {
						out = append(out, hi<<4|lo)
						j += 3
						continue
					}
				}
			}
			if j+1 == len(line) || line[j+1] == '\r' || line[j+1] == '\n' {
				return nil, false // "=" with nothing, or a line end, after it
			}
			out = append(out, '=') // a literal "="
			j++
		}
		out = append(out, eol...)
	}
	return out, true
}

// fastQP turns decodeQP on; tests turn it off to compare with the library alone.
var fastQP = true

// qpReaderBuffer is the size of the buffer mime/quotedprintable reads lines into.
const qpReaderBuffer = 4096

// isQPSpace is what the Reader trims from line ends.
func isQPSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }

// qpPlain marks the bytes the Reader copies as they are: printable ASCII but "=",
// tab, CR, LF, and 0x80 and up.
var qpPlain = func() (t [256]bool) {
	for b := range 256 {
		t[b] = b >= ' ' && b <= '~' && b != '=' || b == '\t' || b == '\r' || b == '\n' || b >= 0x80
	}
	return t
}()

// unhex is a hex digit's value, upper or lower case, as the Reader accepts them.
func unhex(b byte) (byte, bool) {
	switch {
	case b >= '0' && b <= '9':
		return b - '0', true
	case b >= 'A' && b <= 'F':
		return b - 'A' + 10, true
	case b >= 'a' && b <= 'f':
		return b - 'a' + 10, true
	}
	return 0, false
}
