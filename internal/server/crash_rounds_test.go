//go:build !soak

package server_test

// crashRounds is how many kills TestCrashSoak makes in the normal suite.
const crashRounds = 3
