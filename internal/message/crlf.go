package message

import (
	"bytes"
	"io"
	"sync"
)

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
	return &CRLFReader{r: r}
}

// crlfBufs holds the buffers of readers that were read with WriteTo (as io.Copy
// does): they are returned when the source is used up. Every message delivered and
// signed passes through here twice, and fresh buffers each time were a large share of
// all allocation.
var crlfBufs = sync.Pool{New: func() any { return new(crlfBuf) }}

type crlfBuf struct{ in, out []byte }

const crlfChunk = 8 << 10

func (c *CRLFReader) Read(p []byte) (int, error) {
	if len(c.pending) == 0 {
		if c.in == nil {
			c.in = make([]byte, crlfChunk)
		}
		c.fill()
		if len(c.pending) == 0 {
			return 0, c.err
		}
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// WriteTo writes the rest of the converted source to w, through pooled buffers.
func (c *CRLFReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	var pooled *crlfBuf
	if c.in == nil {
		pooled = crlfBufs.Get().(*crlfBuf)
		if pooled.in == nil {
			pooled.in = make([]byte, crlfChunk)
		}
		c.in, c.out = pooled.in, pooled.out[:0]
		defer func() {
			pooled.in, pooled.out = c.in, c.out[:0]
			c.in, c.out, c.pending = nil, nil, nil
			crlfBufs.Put(pooled)
		}()
	}
	for {
		if len(c.pending) == 0 {
			c.fill()
			if len(c.pending) == 0 {
				if c.err == io.EOF {
					return total, nil
				}
				return total, c.err
			}
		}
		n, err := w.Write(c.pending)
		total += int64(n)
		c.pending = c.pending[n:]
		if err != nil {
			return total, err
		}
	}
}

// fill reads from the source until it has converted bytes pending or the source
// has ended.
func (c *CRLFReader) fill() {
	for len(c.pending) == 0 && c.err == nil {
		n, err := c.r.Read(c.in)
		if cap(c.out) < 2*len(c.in)+1 {
			c.out = make([]byte, 0, 2*len(c.in)+1) // every byte a bare LF, and a CR's LF
		}
		c.out = c.convert(c.out[:0], c.in[:n])
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
}

// convert appends in to out with its line endings made CRLF. It copies a line at a
// time: messages are mostly CRLF already, and looking for the two bytes is much
// cheaper than looking at every byte.
func (c *CRLFReader) convert(out, in []byte) []byte {
	for len(in) > 0 {
		if c.cr {
			c.cr = false
			out = append(out, '\n')
			if in[0] == '\n' {
				in = in[1:]
				continue
			}
			// a bare CR is completed; in[0] is read as any other byte
		}
		nl := bytes.IndexByte(in, '\n')
		line := in
		if nl >= 0 {
			line = in[:nl]
		}
		if r := bytes.IndexByte(line, '\r'); r >= 0 && (nl < 0 || r < len(line)-1) {
			// A CR not ending this line: copy through it and let the next byte decide.
			out = append(out, in[:r+1]...)
			c.cr = true
			in = in[r+1:]
			continue
		}
		if nl < 0 {
			return append(out, in...)
		}
		if nl > 0 && in[nl-1] == '\r' {
			out = append(out, in[:nl+1]...)
		} else {
			out = append(out, in[:nl]...)
			out = append(out, '\r', '\n')
		}
		in = in[nl+1:]
	}
	return out
}
