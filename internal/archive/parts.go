package archive

import (
	"bytes"
	"errors"
	"io"

	"github.com/emersion/go-message/mail"
)

// Bounds on reading a message for the index. Text past indexTextBytes per part is not
// indexed; attachments are never decoded, only their names read.
const (
	indexTextBytes = 1 << 20
	maxIndexParts  = 200
)

// attachmentNames lists the file names of a message's attachments from the part
// headers alone: bodies are skipped as the reader passes them, so a 40 MiB attachment
// costs no memory here.
func attachmentNames(raw []byte) []string {
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		return nil
	}
	var names []string
	for range maxIndexParts {
		p, err := r.NextPart()
		if errors.Is(err, io.EOF) || err != nil {
			break
		}
		if h, ok := p.Header.(*mail.AttachmentHeader); ok {
			if name, err := h.Filename(); err == nil && name != "" {
				names = append(names, name)
			}
		}
	}
	return names
}
