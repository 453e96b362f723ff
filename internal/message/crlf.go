package message

import "io"

// CRLFReader rewrites every line ending to CRLF: a bare LF or a bare CR
// becomes CRLF. SMTP allows CR and LF only as a pair (RFC 5321 2.3.8), and
// receivers that are lenient about bare ones disagree on where a line ends,
// which is the root of SMTP smuggling; so nothing but CRLF leaves here.
type CRLFReader struct {
	r       io.Reader
	in      []byte
	out     []byte
	pending []byte
	cr      bool // the last byte seen was CR
	err     error
	ReadErr error // first error from r itself (not io.EOF), as opposed to ours
}

// NewCRLFReader wraps r. DKIM signing and SMTP delivery both use it, so the bytes
// signed are the bytes sent.
func NewCRLFReader(r io.Reader) *CRLFReader {
	return &CRLFReader{r: r, in: make([]byte, 32<<10)}
}

func (c *CRLFReader) Read(p []byte) (int, error) {
	for len(c.pending) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		n, err := c.r.Read(c.in)
		c.out = c.out[:0]
		for _, b := range c.in[:n] {
			switch {
			case b == '\n':
				if !c.cr {
					c.out = append(c.out, '\r')
				}
			case c.cr:
				c.out = append(c.out, '\n') // complete a bare CR
			}
			c.out = append(c.out, b)
			c.cr = b == '\r'
		}
		if err != nil {
			if c.cr {
				c.out = append(c.out, '\n')
				c.cr = false
			}
			c.err = err
			if err != io.EOF {
				c.ReadErr = err
			}
		}
		c.pending = c.out
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}
