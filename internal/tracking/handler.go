package tracking

import (
	"errors"
	"net/http"
	"strings"
)

// pixel is a 1×1 transparent GIF.
var pixel = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

const neutral = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Link not available</title><p>This link is not available.</p></html>`

// Handler serves /t/o/{token} (the pixel) and /t/c/{token} (a redirect). An unknown or
// altered token redirects nowhere: it answers a neutral page.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/t/o/{token}", func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, "open") })
	mux.HandleFunc("/t/c/{token}", func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, "click") })
	return mux
}

func (s *Service) serve(w http.ResponseWriter, r *http.Request, kind string) {
	h := w.Header()
	h.Set("Cache-Control", "no-store, private")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	target, err := s.Hit(r.Context(), kind, strings.TrimSuffix(r.PathValue("token"), ".gif"), r)
	switch {
	case errors.Is(err, errInvalid):
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", "default-src 'none'")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(neutral))
		return
	case err != nil:
		s.log.Error("tracking hit", "err", err)
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	if kind == "open" {
		h.Set("Content-Type", "image/gif")
		w.Write(pixel)
		return
	}
	if target == "" { // the decoy: nothing to go to
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if !strings.HasPrefix(target, "https://") && !strings.HasPrefix(target, "http://") {
		// Only http(s) links are ever tracked; anything else stored is not followed.
		h.Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(neutral))
		return
	}
	// #nosec G710 -- the target is the sealed URL stored with a token whose MAC was verified, not request input
	http.Redirect(w, r, target, http.StatusFound)
}
