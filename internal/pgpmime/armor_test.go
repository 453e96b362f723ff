package pgpmime

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
)

// crc24Bitwise is RFC 9580 6.1's definition, one bit at a time, as a reference.
func crc24Bitwise(data []byte) uint32 {
	crc := uint32(0xB704CE)
	for _, c := range data {
		crc ^= uint32(c) << 16
		for range 8 {
			crc <<= 1
			if crc&0x1000000 != 0 {
				crc ^= 0x1864CFB
			}
		}
	}
	return crc & 0xFFFFFF
}

func TestCRC24(t *testing.T) {
	t.Parallel()
	data := testEntity(300)
	for n := 0; n <= len(data); n++ {
		if got, want := crc24(data[:n]), crc24Bitwise(data[:n]); got != want {
			t.Fatalf("crc24 of %d bytes = %06x, want %06x", n, got, want)
		}
	}
}

// TestWriteArmor compares our armor with go-crypto's, line for line, CRC included, and
// checks that go-crypto reads it back.
func TestWriteArmor(t *testing.T) {
	t.Parallel()
	data := testEntity(1000)
	for _, n := range []int{1, 2, 3, 47, 48, 49, 96, len(data)} {
		for _, checksum := range []bool{true, false} {
			var ours bytes.Buffer
			writeArmor(&ours, messageType, data[:n], checksum)
			var theirs bytes.Buffer
			w, err := armor.EncodeWithChecksumOption(&theirs, messageType, nil, checksum)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(data[:n])
			w.Close()
			// go-crypto ends the footer without a line break when it omits the CRC.
			got := strings.ReplaceAll(ours.String(), "\r\n", "\n")
			if got != strings.TrimSuffix(theirs.String(), "\n")+"\n" {
				t.Errorf("%d bytes, checksum %v:\n got %q\nwant %q", n, checksum, got, theirs.String())
			}
			block, err := armor.Decode(&ours)
			if err != nil {
				t.Fatalf("%d bytes: %v", n, err)
			}
			var back bytes.Buffer
			if _, err := back.ReadFrom(block.Body); err != nil || !bytes.Equal(back.Bytes(), data[:n]) {
				t.Errorf("%d bytes do not read back: %v", n, err)
			}
		}
	}
}

func BenchmarkCRC24(b *testing.B) {
	data := testEntity(10 << 10)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		crc24(data)
	}
}
