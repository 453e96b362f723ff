package httpx

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/membudget"
)

// paceServer echoes the length of each request body it read, or the read error.
func paceServer(t *testing.T, p Pace, slow time.Duration) (string, chan error) {
	t.Helper()
	errs := make(chan error, 10)
	srv := httptest.NewServer(p.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			errs <- err
			w.WriteHeader(400)
			return
		}
		time.Sleep(slow) // work after the body is in: no deadline may cut it
		if r.Context().Err() != nil {
			errs <- fmt.Errorf("request context ended while the handler worked: %v", r.Context().Err())
		}
		fmt.Fprintf(w, "%d", len(b))
	})))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), errs
}

// trickle sends a request whose body arrives chunk bytes every gap.
func trickle(t *testing.T, addr string, size, chunk int, gap time.Duration) (status string, took time.Duration) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", size)
	go func() {
		for sent := 0; sent < size; sent += chunk {
			if _, err := c.Write([]byte(strings.Repeat("x", min(chunk, size-sent)))); err != nil {
				return
			}
			time.Sleep(gap)
		}
	}()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	line, _ := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), time.Since(start)
}

func TestPaceCutsATrickleButNotASteadyUpload(t *testing.T) {
	p := Pace{Body: 500 * time.Millisecond, Write: time.Second, MinRate: 1000, MaxBody: 1 << 20}
	addr, errs := paceServer(t, p, 0)

	// One byte every 200 ms: 5 B/s, far below 1000 B/s. Cut after the 500 ms grace.
	status, took := trickle(t, addr, 100, 1, 200*time.Millisecond)
	if strings.Contains(status, "200") || took > 3*time.Second {
		t.Fatalf("trickled body: %q after %v; want it cut off within a few seconds", status, took)
	}
	select {
	case err := <-errs:
		if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			t.Fatalf("handler read error %v, want a timeout", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the handler never saw the body time out")
	}

	// 60 kB at about 10 kB/s: six seconds, twelve times the grace, but above the rate.
	status, took = trickle(t, addr, 60000, 3000, 300*time.Millisecond)
	if !strings.Contains(status, "200") {
		t.Fatalf("steady upload: %q after %v; want 200", status, took)
	}
	if took < 3*time.Second {
		t.Fatalf("steady upload took only %v: the test did not outlast the grace", took)
	}
}

func TestPaceLeavesHandlerTimeAlone(t *testing.T) {
	p := Pace{Body: 200 * time.Millisecond, Write: 2 * time.Second, MinRate: 1000, MaxBody: 1 << 20}
	addr, errs := paceServer(t, p, 700*time.Millisecond)
	for _, body := range []string{"", "hello"} {
		req, _ := http.NewRequest("POST", "http://"+addr, strings.NewReader(body))
		if body == "" {
			req.Body = http.NoBody
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("body %q: %v", body, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != fmt.Sprint(len(body)) {
			t.Fatalf("body %q: %d %q", body, resp.StatusCode, b)
		}
	}
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
}

func TestPaceInflightBudget(t *testing.T) {
	budget := membudget.New(1000)
	p := Pace{Body: 500 * time.Millisecond, Write: 2 * time.Second, MinRate: 1000, MaxBody: 1 << 20, Inflight: budget, RetryAfter: 3 * time.Second}
	hold := make(chan struct{})
	srv := httptest.NewServer(p.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		if r.URL.Path == "/hold" {
			<-hold
		}
	})))
	defer srv.Close()
	first := make(chan int)
	go func() {
		resp, err := http.Post(srv.URL+"/hold", "text/plain", strings.NewReader(strings.Repeat("a", 800)))
		if err != nil {
			first <- 0
			return
		}
		resp.Body.Close()
		first <- resp.StatusCode
	}()
	for budget.Used() != 800 {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	resp, err := http.Post(srv.URL, "text/plain", strings.NewReader(strings.Repeat("b", 800)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "3" {
		t.Fatalf("over the budget: %d Retry-After %q, want 503 and 3", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if took := time.Since(start); took < 400*time.Millisecond {
		t.Fatalf("refused after %v: it should wait for room up to the body time", took)
	}
	// A body of unknown length is counted as it is read.
	pr, pw := io.Pipe()
	go func() { pw.Write([]byte(strings.Repeat("c", 300))); pw.Close() }()
	resp, err = http.Post(srv.URL, "text/plain", pr)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("a small chunked body within the budget: %v %v", resp, err)
	}
	resp.Body.Close()
	close(hold)
	if s := <-first; s != 200 {
		t.Fatalf("held request: %d", s)
	}
	if u := budget.Used(); u != 0 {
		t.Fatalf("%d bytes still counted after every request ended", u)
	}
	resp, err = http.Post(srv.URL, "text/plain", strings.NewReader(strings.Repeat("d", 900)))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("after room was freed: %v %v", resp, err)
	}
	resp.Body.Close()
}

// TestPaceCountsBodyTimeFromTheFirstRead: a handler that works before it reads (a
// slow database, say) does not spend the client's body time.
func TestPaceCountsBodyTimeFromTheFirstRead(t *testing.T) {
	// A high rate, so the bytes already buffered with the headers earn no time.
	p := Pace{Body: 300 * time.Millisecond, Write: 2 * time.Second, MinRate: 1 << 30, MaxBody: 1 << 20}
	srv := httptest.NewServer(p.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(800 * time.Millisecond)
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		fmt.Fprint(w, len(b))
	})))
	defer srv.Close()
	resp, err := http.Post(srv.URL, "text/plain", strings.NewReader(strings.Repeat("x", 200000)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "200000" {
		t.Fatalf("%d %q", resp.StatusCode, b)
	}
}
