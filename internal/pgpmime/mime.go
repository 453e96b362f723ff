package pgpmime

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// multipartEncrypted armors an OpenPGP message, with the CRC24 footer when checksum is
// set, in the multipart/encrypted entity of RFC 3156 4, with CRLF line ends throughout.
func multipartEncrypted(message []byte, checksum bool) ([]byte, error) {
	boundary, err := newBoundary()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Grow(len(message)*4/3 + len(message)/armorLine*2 + 640)
	// RFC 3156 4: the protocol parameter is required and names the control part's type.
	b.WriteString("Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\";\r\n")
	b.WriteString("\tboundary=\"" + boundary + "\"\r\n")
	b.WriteString("\r\n")
	// A preamble, shown only by mail readers that do not understand MIME.
	b.WriteString("This is an OpenPGP/MIME encrypted message (RFC 3156).\r\n")

	// RFC 3156 4: the first part is application/pgp-encrypted with "Version: 1".
	b.WriteString("--" + boundary + "\r\n")
	b.WriteString("Content-Type: application/pgp-encrypted\r\n")
	b.WriteString("Content-Description: PGP/MIME version identification\r\n")
	b.WriteString("\r\n")
	b.WriteString("Version: 1\r\n")
	b.WriteString("\r\n")

	// RFC 3156 4: the second part is application/octet-stream holding the message.
	b.WriteString("--" + boundary + "\r\n")
	b.WriteString("Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n")
	b.WriteString("Content-Description: OpenPGP encrypted message\r\n")
	b.WriteString("Content-Disposition: inline; filename=\"encrypted.asc\"\r\n")
	b.WriteString("\r\n")
	writeArmor(&b, messageType, message, checksum)
	b.WriteString("\r\n--" + boundary + "--\r\n")
	return b.Bytes(), nil
}

// newBoundary returns a fresh multipart boundary. It starts with "=_", which can occur
// neither in base64 nor at the start of an armor line, so no line of the encrypted part
// can be taken for a delimiter (RFC 2046 5.1.1).
func newBoundary() (string, error) {
	var r [12]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", fmt.Errorf("pgpmime: boundary: %w", err)
	}
	return "=_pgp_" + hex.EncodeToString(r[:]), nil
}
