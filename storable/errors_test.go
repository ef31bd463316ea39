package storable

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/goimp/imprpc/perl"
)

func wantSyntax(t *testing.T, img string, msg string) {
	t.Helper()
	_, err := UnmarshalValue([]byte(img))
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("%q: got %v, want a SyntaxError", img, err)
	}
	if err.Error() != msg {
		t.Errorf("%q: got %q, want %q", img, err.Error(), msg)
	}
}

func TestSyntaxErrors(t *testing.T) {
	wantSyntax(t, "\x05\x0bB", "storable: offset 2: unknown opcode 0x42")
	wantSyntax(t, "\x05\x0b\x02\x00\x00\x00\x01\x00\x00\x00\x00\x05",
		"storable: offset 7: SX_OBJECT: back-reference to object #5 but only 1 objects seen")
	wantSyntax(t, "\x05\x0b\x03\x00\x00\x00\x02\x08\x81\x00\x00\x00\x01a\x08\x82\x00\x00\x00\x01a",
		`storable: offset 16: SX_HASH: duplicate hash key "a"`)
	// The byte key "\xe9" and the UTF-8 key "é" are one key.
	wantSyntax(t, "\x05\x0b\x19\x00\x00\x00\x00\x02\x08\x81\x00\x00\x00\x00\x01\xe9\x08\x82\x01\x00\x00\x00\x02\xc3\xa9",
		`storable: offset 18: SX_FLAG_HASH: duplicate hash key "é"`)
	wantSyntax(t, "\x05\x0b\x0a\x01ab", "storable: offset 5: 1 bytes after the end of the image")
	wantSyntax(t, "\x05\x0b\x14\x02\x00\x00\x00\x00", "storable: offset 2: SX_OVERLOAD: overloaded reference to an unblessed value")
	wantSyntax(t, "\x05\x0b\x11\x01A\x11\x01B\x05", "storable: offset 5: SX_BLESS: blessed twice")
	wantSyntax(t, "\x05\x0b\x12\x03\x05", "storable: offset 2: SX_IX_BLESS: class #3 not seen")
	wantSyntax(t, "\x05\x0b\x20\x00\x01a\x01z", `storable: offset 7: SX_REGEXP: invalid regexp flags "z"`)
	wantSyntax(t, "\x05\x0b\x1d\x01a\x08\x81", "storable: offset 5: SX_VSTRING: v-string followed by SX_BYTE, not a string")
	wantSyntax(t, "\x05\x0b\x02\x80\x00\x00\x00", "storable: offset 3: SX_ARRAY: negative length")
	wantSyntax(t, "\x05\x0b\x0a\x05ab", "storable: offset 6: SX_SCALAR: image ends early (3 more bytes needed)")
	wantSyntax(t, "\x05", "storable: offset 1: image ends in the header (minor version)")
	wantSyntax(t, "", "storable: offset 0: image ends in the header (version)")

	// Trailing data is fine when asked for.
	m, _ := DecOptions{AllowTrailingData: true}.DecMode()
	if v, err := m.UnmarshalValue([]byte("\x05\x0b\x0a\x01ab")); err != nil || !bytes.Equal(v.(perl.Bytes), []byte("a")) {
		t.Errorf("AllowTrailingData: got %v, %v", v, err)
	}
}

func TestUnsupportedOpcodes(t *testing.T) {
	for _, c := range []struct{ img, msg string }{
		{"\x05\x0b\x0c\x03\x00\x00\x00\x00", "storable: offset 2: SX_TIED_HASH: tied values not supported"},
		{"\x05\x0b\x1a\x0a\x05{ 1 }", "storable: offset 2: SX_CODE: code references not supported"},
		{"\x05\x0b\x13\x03\x06", "storable: offset 2: SX_HOOK: tied objects with STORABLE_freeze hooks not supported"},
	} {
		_, err := UnmarshalValue([]byte(c.img))
		var ue *UnsupportedError
		if !errors.As(err, &ue) || err.Error() != c.msg {
			t.Errorf("%q: got %v, want %q", c.img, err, c.msg)
		}
	}
}

func wantLimit(t *testing.T, opts DecOptions, img []byte, limit string) {
	t.Helper()
	m, err := opts.DecMode()
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.UnmarshalValue(img)
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != limit || !strings.HasPrefix(err.Error(), "storable: offset ") ||
		!strings.Contains(err.Error(), "exceeds "+limit) {
		t.Errorf("got %v, want a LimitError for %s", err, limit)
	}
	_, err = m.NewDecoder(bytes.NewReader(img)).DecodeValue()
	if !errors.As(err, &le) || le.Limit != limit {
		t.Errorf("stream: got %v, want a LimitError for %s", err, limit)
	}
}

func TestLimits(t *testing.T) {
	deep := []byte("\x05\x0b" + strings.Repeat("\x04", 100) + "\x05")
	wantLimit(t, DecOptions{MaxDepth: 50}, deep, "MaxDepth")
	if _, err := UnmarshalValue(deep); err != nil {
		t.Errorf("100 levels with the default limit: %v", err)
	}
	wantLimit(t, DecOptions{MaxArrayLen: 2}, []byte("\x05\x0b\x02\x00\x00\x00\x03\x05\x05\x05"), "MaxArrayLen")
	wantLimit(t, DecOptions{MaxHashLen: 1}, []byte("\x05\x0b\x03\x00\x00\x00\x02\x05\x00\x00\x00\x00\x05\x00\x00\x00\x01a"), "MaxHashLen")
	wantLimit(t, DecOptions{MaxStringLen: 3}, []byte("\x05\x0b\x0a\x04abcd"), "MaxStringLen")
	m, _ := DecOptions{MaxStringLen: 3}.DecMode()
	if _, err := m.UnmarshalValue([]byte("\x05\x0b\x0a\x04abcd")); err == nil || err.Error() != "storable: offset 3: exceeds MaxStringLen: 4 > 3" {
		t.Errorf("got %v", err)
	}
	wantLimit(t, DecOptions{MaxSize: 5}, []byte("\x05\x0b\x0a\x04abcd"), "MaxSize")

	if _, err := (DecOptions{MaxDepth: -1}).DecMode(); err == nil {
		t.Error("negative MaxDepth accepted")
	}
	if _, err := (DecOptions{LongDouble: 9}).DecMode(); err == nil {
		t.Error("invalid LongDouble accepted")
	}
	m, _ = DecOptions{}.DecMode()
	if o := m.DecOptions(); o.MaxDepth != DefaultMaxDepth || o.MaxSize != DefaultMaxSize || o.MaxHashLen != DefaultMaxHashLen {
		t.Errorf("defaults not filled in: %+v", o)
	}
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// A short image announcing huge sizes is refused before anything of that
// size is allocated, in memory and from a stream.
func TestHostileLengths(t *testing.T) {
	for _, img := range []string{
		"\x05\x0b\x01\xff\xff\xff\xf0abc",                           // 4 GiB string
		"\x05\x0b\x02\x7f\xff\xff\xf0\x05",                          // 2**31 elements
		"\x05\x0b\x03\x7f\xff\xff\xf0\x05",                          // 2**31 entries
		"\x05\x0b\x21\x02\x00\x00\x00\x10\x00\x00\x00\x00\x05",      // SX_LOBJECT array of 2**36
		"\x05\x0b\x13\x02\x01A\x08\x7f\xff\xff\xf0",                 // hook string of 2 GiB
		"\x05\x0b\x13\x92\x01A\x00\x7f\xff\xff\xf0\x00\x00\x00\x00", // hook with 2**31 refs
		"\x05\x0b\x02\x00\x10\x00\x00\x05",                          // 2**20 elements, 1 byte left
	} {
		var err error
		n := allocated(func() { _, err = UnmarshalValue([]byte(img)) })
		if err == nil {
			t.Errorf("%q: no error", img)
		}
		if n > 1<<20 {
			t.Errorf("%q: allocated %d bytes", img, n)
		}
		var serr error
		n = allocated(func() { _, serr = NewDecoder(iotest.OneByteReader(strings.NewReader(img))).DecodeValue() })
		if serr == nil {
			t.Errorf("stream %q: no error", img)
		}
		if n > 8<<20 {
			t.Errorf("stream %q: allocated %d bytes", img, n)
		}
	}
}

// Errors of the reader reach the caller of a Decoder unchanged; an image
// cut short is io.ErrUnexpectedEOF, no image at all io.EOF.
func TestDecoderErrors(t *testing.T) {
	boom := errors.New("boom")
	_, err := NewDecoder(iotest.ErrReader(boom)).DecodeValue()
	if !errors.Is(err, boom) {
		t.Errorf("got %v, want %v", err, boom)
	}
	_, err = NewDecoder(strings.NewReader("\x05\x0b\x0a\x05ab")).DecodeValue()
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("got %v, want io.ErrUnexpectedEOF", err)
	}
	dec := NewDecoder(strings.NewReader("pst0\x05\x0b\x0a\x01a"))
	v, err := dec.DecodeValue()
	if err != nil || string(v.(perl.Bytes)) != "a" || !dec.Header().File || dec.InputOffset() != 9 {
		t.Errorf("file image: got %v, %v, %+v, %d", v, err, dec.Header(), dec.InputOffset())
	}
	if _, err := dec.DecodeValue(); err != io.EOF {
		t.Errorf("at the end: got %v, want io.EOF", err)
	}
}
