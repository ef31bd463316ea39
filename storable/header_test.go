package storable

import (
	"errors"
	"testing"
)

// Headers this package does not read give an UnsupportedError.
func TestUnsupportedHeaders(t *testing.T) {
	for _, img := range []string{
		"\x02\x07",       // binary major 1
		"\x07\x00",       // binary major 3
		"perl-store\x01", // before Storable 0.6
		"\x04\x0b\x04\x33\x34\x31\x32\x04\x04\x04\x08\x05",                 // byte order 3412
		"\x04\x0b\x08\x31\x32\x33\x34\x35\x36\x37\x38\x04\x08\x08\x0a\x05", // NV of 10 bytes
	} {
		_, err := UnmarshalValue([]byte(img))
		var ue *UnsupportedError
		if !errors.As(err, &ue) {
			t.Errorf("%q: got %v, want an UnsupportedError", img, err)
		}
	}
}
