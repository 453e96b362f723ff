//go:build soak

package server_test

// crashRounds is how many kills TestCrashSoak makes under `go test -tags soak`.
const crashRounds = 20
