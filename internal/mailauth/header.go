package mailauth

import (
	"bufio"
	"bytes"
	"strings"

	"github.com/emersion/go-message/textproto"
	"github.com/emersion/go-msgauth/authres"
)

// Stamp returns the message with field prepended and every Authentication-Results
// field that claims authServID removed: a sender must not be able to forge our
// verdict (RFC 8601 5). Fields of other servers stay, as do the other fields' bytes.
func Stamp(raw []byte, authServID, field string) ([]byte, error) {
	br := bufio.NewReader(bytes.NewReader(raw))
	h, err := textproto.ReadHeader(br)
	if err != nil {
		return nil, err
	}
	fields := h.FieldsByKey("Authentication-Results")
	for fields.Next() {
		id, _, err := authres.Parse(fields.Value())
		if err != nil {
			// Unparsable: a claim whose id cannot be read may be ours.
			fields.Del()
			continue
		}
		if strings.EqualFold(strings.TrimSuffix(id, "."), authServID) {
			fields.Del()
		}
	}
	var out bytes.Buffer
	out.Grow(len(raw) + len(field))
	out.WriteString(field)
	if err := textproto.WriteHeader(&out, h); err != nil {
		return nil, err
	}
	if _, err := br.WriteTo(&out); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
