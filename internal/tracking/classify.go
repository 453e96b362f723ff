package tracking

import (
	"net/http"
	"strings"
	"time"
)

// Classes of reader.
const (
	Human   = "human"
	Proxy   = "proxy"   // a privacy proxy or image cache fetched it for the reader
	Machine = "machine" // a security scanner or other automaton
)

// Request is what the classifier knows of one hit.
type Request struct {
	Kind         string // open, click, decoy
	Method       string
	UserAgent    string
	At           time.Time
	DeliveredAt  time.Time // zero if not (yet) recorded as delivered
	RecentClicks int       // the recipient's clicks within burstWindow
}

// scannerWindow: a click this soon after delivery is a scanner's, not a person's.
const scannerWindow = 10 * time.Second

// proxyAgents mark image proxies. Apple Mail Privacy Protection fetches through proxies
// that send a bare "Mozilla/5.0".
var proxyAgents = []string{"googleimageproxy", "ggpht.com", "yahoomailproxy", "yahoo! slurp", "outlook-iOS-android"}

// scannerAgents mark link scanners and scripts.
var scannerAgents = []string{"barracuda", "mimecast", "proofpoint", "symantec", "forcepoint", "trendmicro", "sophos",
	"safelinks", "microsoft office", "bot", "spider", "crawler", "scanner", "python-", "curl/", "wget/", "go-http-client", "java/", "libwww", "okhttp"}

// Classify tells a person from a proxy or a machine, with the reason. It marks, never
// drops: every hit is recorded, and reports count people apart.
func Classify(r Request) (class, reason string) {
	ua := strings.ToLower(r.UserAgent)
	switch {
	case r.Kind == "decoy":
		return Machine, "followed a hidden link"
	case r.Method == http.MethodHead:
		return Machine, "HEAD request"
	case ua == "":
		return Machine, "no user agent"
	}
	for _, a := range scannerAgents {
		if strings.Contains(ua, a) {
			return Machine, "scanner user agent"
		}
	}
	if r.UserAgent == "Mozilla/5.0" {
		return Proxy, "privacy proxy"
	}
	for _, a := range proxyAgents {
		if strings.Contains(ua, strings.ToLower(a)) {
			return Proxy, "image proxy"
		}
	}
	if r.Kind == "click" {
		if !r.DeliveredAt.IsZero() && r.At.Sub(r.DeliveredAt) < scannerWindow {
			return Machine, "clicked seconds after delivery"
		}
		if r.RecentClicks >= 2 {
			return Machine, "burst of clicks on several links"
		}
	}
	return Human, ""
}
