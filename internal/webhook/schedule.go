package webhook

import (
	"math/rand/v2"
	"time"
)

// Schedule is the wait before each attempt after the first failure, as the Standard
// Webhooks specification recommends: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
// 10 h. After the last, the delivery is given up.
var Schedule = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// MaxRetryAfter caps how long a receiver's Retry-After can push an attempt back.
const MaxRetryAfter = 24 * time.Hour

// DisableAfter is how long an endpoint may fail every attempt before it is disabled.
const DisableAfter = 5 * 24 * time.Hour

// NextDelay returns how long to wait after the attempts-th failed attempt (1-based) on
// schedule (nil: Schedule), with up to 10 % jitter either way so that many deliveries
// failing together do not return together; ok is false when the schedule is exhausted.
// A receiver's Retry-After, when later than the schedule, wins.
func NextDelay(schedule []time.Duration, attempts int, retryAfter time.Duration) (d time.Duration, ok bool) {
	if schedule == nil {
		schedule = Schedule
	}
	if attempts < 1 || attempts > len(schedule) {
		return 0, false
	}
	d = schedule[attempts-1]
	d += time.Duration((rand.Float64()*0.2 - 0.1) * float64(d)) // #nosec G404 -- jitter only spreads retries; nothing depends on it being unpredictable
	if retryAfter > d {
		d = min(retryAfter, MaxRetryAfter)
	}
	return d, true
}
