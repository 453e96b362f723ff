package message

import (
	"reflect"
	"testing"
)

func TestMergeRecipients(t *testing.T) {
	t.Parallel()
	addrs := func(list ...string) []Address {
		var out []Address
		for _, s := range list {
			out = append(out, Address{Addr: s})
		}
		return out
	}
	names := func(list []Address) []string {
		var out []string
		for _, a := range list {
			out = append(out, a.Addr)
		}
		return out
	}
	test := func(ignoreCase bool, to, cc, bcc []string, wantTo, wantCc, wantBcc []string, wantRemoved int) {
		t.Helper()
		d := &Draft{To: addrs(to...), Cc: addrs(cc...), Bcc: addrs(bcc...)}
		n := d.MergeRecipients(ignoreCase)
		if !reflect.DeepEqual(names(d.To), wantTo) || !reflect.DeepEqual(names(d.Cc), wantCc) || !reflect.DeepEqual(names(d.Bcc), wantBcc) || n != wantRemoved {
			t.Errorf("to %v cc %v bcc %v (removed %d); want %v %v %v (%d)", names(d.To), names(d.Cc), names(d.Bcc), n, wantTo, wantCc, wantBcc, wantRemoved)
		}
	}
	// To wins over Cc over Bcc; the domain's case does not matter.
	test(false, []string{"a@x.org", "b@y.org"}, []string{"a@X.ORG", "c@x.org"}, []string{"b@y.org", "c@x.org", "d@x.org"},
		[]string{"a@x.org", "b@y.org"}, []string{"c@x.org"}, []string{"d@x.org"}, 3)
	// Repeats within one field keep the first.
	test(false, []string{"a@x.org", "b@x.org", "a@x.org"}, nil, nil, []string{"a@x.org", "b@x.org"}, nil, nil, 1)
	// Local parts differ by case: two mailboxes, unless configured otherwise.
	test(false, []string{"Pat@x.org"}, []string{"pat@x.org"}, nil, []string{"Pat@x.org"}, []string{"pat@x.org"}, nil, 0)
	test(true, []string{"Pat@x.org"}, []string{"pat@x.org"}, nil, []string{"Pat@x.org"}, nil, nil, 1)
}
