// Package duration reads and writes durations as people write them: Go's units plus
// days ("90d", "1d12h"), and back again in the largest whole unit ("90d", not
// "2160h0m0s"). Configuration, API fields and command-line flags all use it.
package duration

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

const day = 24 * time.Hour

// Parse reads a duration such as "90d", "1d12h", "72h", "15m" or "30s". A leading day
// count is accepted on its own or before any of Go's duration units.
func Parse(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty duration")
	}
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil || n < 0 || n > int64(maxDays) {
			return 0, errors.New("want a duration such as 90d, 72h, 15m or 30s")
		}
		days, s = time.Duration(n)*day, s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || (days > 0 && d < 0) {
		return 0, errors.New("want a duration such as 90d, 72h, 15m or 30s")
	}
	return days + d, nil
}

// maxDays keeps a day count from overflowing time.Duration (about 292 years).
const maxDays = 106000

// ParsePositive is Parse for settings that must be above zero.
func ParsePositive(s string) (time.Duration, error) {
	d, err := Parse(s)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, errors.New("want a positive duration such as 90d, 72h, 15m or 30s")
	}
	return d, nil
}

// Format writes d in its largest whole unit — "90d", "36h", "15m", "30s" — and falls back
// to Go's form ("1h30m0s" becomes "90m"; "1.5s" stays "1.5s").
func Format(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d%day == 0:
		return strconv.FormatInt(int64(d/day), 10) + "d"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return d.String()
}
