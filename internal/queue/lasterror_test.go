package queue

import (
	"strings"
	"testing"
)

func TestLastErrorMasksAddresses(t *testing.T) {
	for in, want := range map[string]string{
		"550 5.1.1 <pat.doe+x@example.org>: Recipient address rejected": "550 5.1.1 <…@example.org>: Recipient address rejected",
		"452 4.2.2 mailbox of pat@example.org full; try pat2@b.example": "452 4.2.2 mailbox of …@example.org full; try …@b.example",
		"250 2.0.0 Ok: queued as 4Fz9":                                  "250 2.0.0 Ok: queued as 4Fz9",
		"":                                                              "",
		"dial tcp 127.0.0.1:25: connection refused":                     "dial tcp 127.0.0.1:25: connection refused",
	} {
		if got := lastError(in); got != want {
			t.Errorf("lastError(%q) = %q, want %q", in, got, want)
		}
	}
	if got := lastError(strings.Repeat("x", 500)); len(got) != maxLastError {
		t.Errorf("not cut: %d bytes", len(got))
	}
}
