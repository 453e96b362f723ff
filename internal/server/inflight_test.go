package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// TestInflightCap: while one request holds the whole in-flight byte budget, another
// waits api.inflight_wait and gets a 503 with Retry-After; once the first is answered
// the next is accepted.
func TestInflightCap(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t), envOptions{configure: func(c *config.Config) {
		c.API.MaxBodyBytes, c.API.MaxInflightBytes, c.API.InflightWait = 1<<20, 1<<20, "300ms"
	}})
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", e.base+"/v1/messages", pr)
	req.ContentLength = 1 << 20 // the whole budget, sent slowly
	req.Header.Set("Authorization", "Bearer "+e.key)
	first := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			first <- 0
			return
		}
		resp.Body.Close()
		first <- resp.StatusCode
	}()
	pw.Write([]byte(`{"from":"a@clinic.example",`)) // the server is now reading it
	time.Sleep(100 * time.Millisecond)

	body := `{"from":"a@clinic.example","to":"p@patient.example","subject":"s","text":"t"}`
	req2, _ := http.NewRequest("POST", e.base+"/v1/messages", strings.NewReader(body))
	req2.Header.Set("Authorization", "Bearer "+e.key)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req2)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || time.Since(start) < 250*time.Millisecond {
		t.Fatalf("over the cap: status %d, Retry-After %q after %v; want 503 with Retry-After after the wait",
			resp.StatusCode, resp.Header.Get("Retry-After"), time.Since(start))
	}
	pw.CloseWithError(io.ErrUnexpectedEOF)
	<-first
	if s, r := e.do("POST", "/v1/messages", e.key, body); s != 202 {
		t.Fatalf("after the first was answered: %d %v", s, r)
	}
}
