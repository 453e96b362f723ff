package delivery

import (
	"bytes"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// countingConn records each write that reaches the socket.
type countingConn struct {
	net.Conn
	writes []int
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes = append(c.writes, len(p))
	return c.Conn.Write(p)
}

// TestGatheredWrites: what the SMTP client writes leaves when it next reads, or
// when a TLS record's worth waits, in order and whole; a write that failed is
// reported by the read that sent it, not by a reply.
func TestGatheredWrites(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	received := make(chan []byte, 1)
	go func() {
		sc, err := ln.Accept()
		if err != nil {
			received <- nil
			return
		}
		defer sc.Close()
		_, _ = sc.Write([]byte("250 ok\r\n250 ok\r\n"))
		all, _ := io.ReadAll(sc)
		received <- all
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	cc := &countingConn{Conn: raw}
	g := &greetedConn{Conn: cc, r: cc}
	var sent bytes.Buffer
	write := func(s string) {
		t.Helper()
		if n, err := g.Write([]byte(s)); err != nil || n != len(s) {
			t.Fatalf("write: %d, %v", n, err)
		}
		sent.WriteString(s)
	}
	read := func() {
		t.Helper()
		_ = raw.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := g.Read(make([]byte, 8)); err != nil {
			t.Fatalf("read: %v", err)
		}
	}
	write("MAIL FROM:<a@b.test>\r\n")
	if len(cc.writes) != 0 {
		t.Fatalf("a command left before the client read: %v", cc.writes)
	}
	read()
	if len(cc.writes) != 1 {
		t.Fatalf("the read did not send the command first: %v", cc.writes)
	}
	chunk := strings.Repeat("x", 4094) + "\r\n" // what the client's text writer flushes
	for range 4 {
		write(chunk)
	}
	if got := cc.writes[1:]; len(got) != 0 {
		t.Errorf("16 KiB gathered left early: %v", got)
	}
	write(chunk) // past a record's worth: the four leave together
	write(strings.Repeat("y", 20000))
	write(".\r\n")
	read()
	// A write of a record's worth or more leaves as it is, after what waited.
	if got, want := cc.writes[1:], []int{4 * 4096, 4096, 20000, 3}; !slices.Equal(got, want) {
		t.Errorf("writes %v, want %v", got, want)
	}
	raw.Close()
	if got := <-received; !bytes.Equal(got, sent.Bytes()) {
		t.Errorf("received %d bytes, sent %d, or out of order", len(got), sent.Len())
	}

	// On a broken connection the write is taken, and the read that would send it
	// fails instead of reading a reply.
	dead := &greetedConn{Conn: raw, r: strings.NewReader("250 2.0.0 queued\r\n")}
	if _, err := dead.Write([]byte(".\r\n")); err != nil {
		t.Fatalf("a gathered write failed at once: %v", err)
	}
	if n, err := dead.Read(make([]byte, 64)); err == nil {
		t.Errorf("read %d bytes of a reply though the final dot never left", n)
	}
}
