package sereal

import (
	"bytes"
	"compress/zlib"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/golang/snappy"

	"github.com/goimp/imprpc/perl"
)

// v5 returns a raw protocol 5 document with the given body.
func v5(body string) []byte { return []byte("=\xf3rl\x05\x00" + body) }

func TestDecodeErrors(t *testing.T) {
	for _, c := range []struct {
		name   string
		doc    []byte
		offset int64
		msg    string // part of the message
		eof    bool
	}{
		{"empty", nil, 0, "ends too early", true},
		{"bad magic", []byte("=srx\x01\x00\x01"), 0, "bad magic", false},
		{"no body", v5(""), 6, "ends too early", true},
		{"unknown tag", v5("\x3c"), 6, "MANY: unexpected tag", false},
		{"reserved tag", v5("\x36"), 6, "RESERVED_0: unexpected tag", false},
		{"cut string", v5("\x65abc"), 10, "ends too early", true},
		{"cut varint", v5("\x20\x80"), 8, "ends too early", true},
		{"varint overflow", v5("\x20\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02"), 6, "overflows 64 bits", false},
		{"cut double", v5("\x23\x00\x00"), 9, "ends too early", true},
		{"array longer than input", v5("\x28\x2b\x05\x01"), 10, "ends too early", true},
		{"hash key not a string", v5("\x51\x01\x02"), 7, "where a hash key belongs", false},
		{"duplicate key", v5("\x52\x61a\x01\x61a\x02"), 6, `duplicate key "a"`, false},
		{"duplicate key in two forms", v5("\x52\x61\xe9\x01\x27\x02\xc3\xa9\x02"), 6, `duplicate key "é"`, false},
		{"REFP forward", v5("\x42\x29\x05\x01"), 7, "does not point back", false},
		{"REFP untracked", v5("\x42\x01\x29\x02"), 8, "refers to no tracked item", false},
		{"REFP offset 0", v5("\x41\x29\x00"), 7, "does not point back", false},
		{"ALIAS untracked", v5("\x42\x01\x2e\x02"), 8, "refers to no tracked item", false},
		{"COPY of a number", v5("\x42\x01\x2f\x02"), 8, "COPY of POS_1 not supported", false},
		{"COPY forward", v5("\x42\x2f\x05\x61a"), 7, "does not point back", false},
		{"OBJECT of a non-reference", v5("\x2c\x61A\x01"), 6, "not a reference", false},
		{"OBJECT with a number for a class", v5("\x2c\x01\x40"), 7, "where a class name or pattern belongs", false},
		{"OBJECTV of no class", v5("\x42\x61x\x2d\x02\x40"), 9, "refers to no class name", false},
		{"WEAKEN of a non-reference", v5("\x30\x01"), 6, "WEAKEN of an item that is not a reference", false},
		{"regexp modifiers not SHORT_BINARY", v5("\x28\x31\x61x\x26\x01i"), 10, "must be a SHORT_BINARY", false},
		{"bad regexp modifier", v5("\x28\x31\x61x\x61g"), 11, "bad regexp modifier 'g'", false},
		{"frozen object not an array", v5("\x32\x61A\x28\x01"), 6, "not a reference to an array", false},
		{"trailing data", v5("\x01\x02"), 7, "data after the end of the document", false},
		{"zlib body too long", zlibDoc(t, "\x01\x02", 1), 8, "zlib body longer than it announces", false},
		{"zlib body too short", zlibDoc(t, "\x01", 2), 8, "bad zlib body", false},
		{"zlib body corrupt", []byte("=\xf3rl\x35\x00\x01\x03abc"), 8, "bad zlib body", false},
		{"snappy body corrupt", []byte("=\xf3rl\x25\x00\x03\x05\x00\x00"), 7, "Snappy", false},
		{"snappy claims too much", []byte("=\xf3rl\x25\x00\x04\xff\xff\x7f\x00"), 7, "announces more than it can hold", false},
		{"zstd body corrupt", []byte("=\xf3rl\x45\x00\x04abcd"), 7, "bad zstd body", false},
		{"compressed body with trailing data", snappyDoc("\x01\x02"), 7, "data after the end of the body (in the decompressed body)", false},
		{"compressed body cut", snappyDoc("\x65ab"), 9, "body ends too early", false},
	} {
		_, err := UnmarshalValue(c.doc)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !strings.HasPrefix(err.Error(), "sereal: ") || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want a message with %q", c.name, err, c.msg)
		}
		var se *SyntaxError
		var ue *UnsupportedError
		switch {
		case errors.As(err, &se):
			if se.Offset != c.offset {
				t.Errorf("%s: offset %d, want %d (%v)", c.name, se.Offset, c.offset, err)
			}
		case errors.As(err, &ue):
			if ue.Offset != c.offset {
				t.Errorf("%s: offset %d, want %d (%v)", c.name, ue.Offset, c.offset, err)
			}
		default:
			t.Errorf("%s: %T %v", c.name, err, err)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) != c.eof {
			t.Errorf("%s: errors.Is(io.ErrUnexpectedEOF) = %v", c.name, !c.eof)
		}
	}
}

func zlibDoc(t *testing.T, body string, announce int) []byte {
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	if _, err := w.Write([]byte(body)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	doc := []byte("=\xf3rl\x35\x00")
	doc = appendVarint(doc, uint64(announce))
	doc = appendVarint(doc, uint64(z.Len()))
	return append(doc, z.Bytes()...)
}

func snappyDoc(body string) []byte {
	c := snappy.Encode(nil, []byte(body))
	return append(appendVarint([]byte("=\xf3rl\x25\x00"), uint64(len(c))), c...)
}

func TestDecodeUnsupported(t *testing.T) {
	for _, c := range []struct {
		name, doc, what, hint string
	}{
		{"protocol 6", "=\xf3rl\x06\x00\x01", "protocol version 6", "Sereal 5.x, or the Storable wire"},
		{"protocol 7", "=\xf3rl\x07\x00\x01", "protocol version 7", "Sereal 5.x, or the Storable wire"},
		{"protocol 9", "=\xf3rl\x09\x00\x01", "protocol version 9", ""},
		{"document type 7", "=\xf3rl\x75\x00\x01", "document type 7", ""},
		{"FLOAT_128", "=\xf3rl\x05\x00\x38" + strings.Repeat("\x00", 16), "FLOAT_128", "use_standard_double"},
		{"LONG_DOUBLE", "=\xf3rl\x04\x00\x24" + strings.Repeat("\x00", 16), "LONG_DOUBLE", "use_standard_double"},
	} {
		_, err := UnmarshalValue([]byte(c.doc))
		var ue *UnsupportedError
		if !errors.As(err, &ue) {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !strings.Contains(err.Error(), c.what+" not supported") || !strings.Contains(ue.Hint, c.hint) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func TestDecodeLimits(t *testing.T) {
	deep := strings.Repeat("\x41", 40) + "\x01"
	for _, c := range []struct {
		name  string
		opts  DecOptions
		doc   []byte
		limit string
	}{
		{"depth", DecOptions{MaxDepth: 30}, v5(deep), "MaxDepth"},
		{"depth of references", DecOptions{MaxDepth: 30}, v5(strings.Repeat("\x28", 40) + "\x01"), "MaxDepth"},
		{"depth of WEAKEN", DecOptions{MaxDepth: 30}, v5(strings.Repeat("\x30", 40) + "\x28\x01"), "MaxDepth"},
		{"depth of OBJECT", DecOptions{MaxDepth: 30}, v5(strings.Repeat("\x2c\x61A", 40) + "\x28\x01"), "MaxDepth"},
		{"string", DecOptions{MaxStringLen: 3}, v5("\x64abcd"), "MaxStringLen"},
		{"array", DecOptions{MaxArrayLen: 2}, v5("\x43\x01\x02\x03"), "MaxArrayLen"},
		{"hash", DecOptions{MaxHashLen: 1}, v5("\x52\x61a\x01\x61b\x02"), "MaxHashLen"},
		{"size", DecOptions{MaxSize: 8}, v5("\x43\x01\x02\x03"), "MaxSize"},
		{"decompressed size", DecOptions{MaxDecompressedSize: 100}, snappyDoc(string(append([]byte{0x26, 0x80, 0x08}, make([]byte, 1024)...))), "MaxDecompressedSize"},
		{"zlib decompressed size", DecOptions{MaxDecompressedSize: 100}, zlibDoc(t, string(append([]byte{0x26, 0x80, 0x08}, make([]byte, 1024)...)), 1027), "MaxDecompressedSize"},
		{"COPY amplification", DecOptions{MaxDecodedSize: 1000}, copyBomb(100, 50), "MaxDecodedSize"},
	} {
		m, err := c.opts.DecMode()
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.UnmarshalValue(c.doc)
		var le *LimitError
		if !errors.As(err, &le) || le.Limit != c.limit {
			t.Errorf("%s: %v, want a LimitError for %s", c.name, err, c.limit)
		}
	}
	if _, err := (DecOptions{MaxDepth: -1}).DecMode(); err == nil {
		t.Error("negative limit accepted")
	}
}

// copyBomb returns a document holding a string of n bytes and copies COPY
// tags of it.
func copyBomb(n, copies int) []byte {
	body := appendTagVarint([]byte{tagRefN}, tagArray, uint64(copies+1))
	body = appendTagVarint(body, tagBinary, uint64(n))
	body = append(body, make([]byte, n)...)
	for range copies {
		body = appendTagVarint(body, tagCopy, 4)
	}
	return v5(string(body))
}

// TestDecodeHostileLengths checks that lengths announced by a small
// document allocate nothing before the bytes are there.
func TestDecodeHostileLengths(t *testing.T) {
	for _, doc := range [][]byte{
		v5("\x28\x2b\xff\xff\xff\xff\x0f\x01"),          // array of 2**32-1 elements
		v5("\x28\x2a\xff\xff\xff\xff\x0f\x61a\x01"),     // hash of 2**32-1 entries
		v5("\x26\xff\xff\xff\xff\x0f"),                  // string of 4 GiB
		[]byte("=\xf3rl\x35\x00\xff\xff\xff\x07\x02xx"), // zlib body of 2 GiB
		[]byte("=\xf3rl\x25\x00\x05\xff\xff\xff\x7f\x00"),
	} {
		allocs := testing.AllocsPerRun(10, func() {
			if _, err := UnmarshalValue(doc); err == nil {
				t.Errorf("%x decoded", doc)
			}
		})
		var ms runtimeMem
		before := ms.alloc()
		_, _ = UnmarshalValue(doc)
		if grew := ms.alloc() - before; grew > 1<<20 {
			t.Errorf("%x: allocated %d bytes", doc, grew)
		}
		if allocs > 10 {
			t.Errorf("%x: %v allocations", doc, allocs)
		}
	}
}

// TestDecodeValues checks values that the Perl corpus does not hold.
func TestDecodeValues(t *testing.T) {
	for _, c := range []struct {
		name string
		doc  []byte
		want perl.Value
	}{
		{"padded varint", v5("\x20\x85\x80\x00"), perl.Int(5)},
		{"PAD before a value", v5("\x3f\x3f\x01"), perl.Int(1)},
		{"bare array", v5("\x2b\x01\x01"), perl.ArrayRef(perl.Int(1))},
		{"bare hash", v5("\x2a\x01\x61k\x01"), hashRef("k", perl.Int(1))},
		{"YES and NO", v5("\x42\x35\x34"), perl.ArrayRef(perl.Bool(true), perl.Bool(false))},
		{"uint", v5("\x20\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"), perl.Uint(1<<64 - 1)},
		{"REFN ALIAS", v5("\x42\xe4abcd\x28\x2e\x02"), aliasPair()},
		{"COPY of a UTF-8 string", v5("\x42\x27\x02\xc3\xa9\x2f\x02"), perl.ArrayRef(perl.String("é"), perl.String("é"))},
		{"COPY of a tracked string", v5("\x43\xe4abcd\x2e\x02\x2f\x02"), aliasCopy()},
		{"user header", []byte("=\xf3rl\x05\x04\x01\x41\x61x\x01"), perl.Int(1)},
		{"protocol 1 offsets", []byte("=srl\x01\x00\x42\xab\x00\x29\x07"), sharedEmptyArrays()},
	} {
		got, err := UnmarshalValue(c.doc)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if d := perl.Diff(got, c.want); d != "" {
			t.Errorf("%s: %s", c.name, d)
		}
	}
}

func aliasPair() perl.Value {
	s := &perl.Scalar{Value: perl.Bytes("abcd")}
	return perl.ArrayRef(s, perl.Ref{To: s})
}

func aliasCopy() perl.Value {
	s := &perl.Scalar{Value: perl.Bytes("abcd")}
	return perl.ArrayRef(s, s, perl.Bytes("abcd"))
}

func sharedEmptyArrays() perl.Value {
	a := perl.NewArray()
	a.Elems = []perl.Value{}
	return perl.ArrayRef(perl.Ref{To: a}, perl.Ref{To: a})
}

func TestUnmarshalHeader(t *testing.T) {
	doc := []byte("=\xf3rl\x05\x04\x01\x41\x61x\x01")
	h, err := defaultDecMode.UnmarshalHeader(doc)
	if err != nil {
		t.Fatal(err)
	}
	if d := perl.Diff(h, perl.ArrayRef(perl.Bytes("x"))); d != "" {
		t.Fatal(d)
	}
	if h, err := defaultDecMode.UnmarshalHeader(v5("\x01")); h != nil || err != nil {
		t.Fatalf("no header: %v, %v", h, err)
	}
}

func TestAllowTrailingData(t *testing.T) {
	m, err := DecOptions{AllowTrailingData: true}.DecMode()
	if err != nil {
		t.Fatal(err)
	}
	v, err := m.UnmarshalValue(v5("\x01garbage"))
	if err != nil || v != perl.Int(1) {
		t.Fatalf("%v, %v", v, err)
	}
}

func TestAliasInput(t *testing.T) {
	m, err := DecOptions{AliasInput: true}.DecMode()
	if err != nil {
		t.Fatal(err)
	}
	doc := v5("\x63abc")
	v, err := m.UnmarshalValue(doc)
	if err != nil {
		t.Fatal(err)
	}
	doc[7] = 'X'
	if string(v.(perl.Bytes)) != "Xbc" {
		t.Fatalf("AliasInput: %q does not share the input", v)
	}
	if v2, _ := UnmarshalValue(doc); &v2.(perl.Bytes)[0] == &doc[7] {
		t.Fatal("default decoding shares the input")
	}
}

type runtimeMem struct{ ms runtime.MemStats }

func (m *runtimeMem) alloc() uint64 {
	runtime.ReadMemStats(&m.ms)
	return m.ms.TotalAlloc
}

func TestLooksLikeSereal(t *testing.T) {
	for doc, want := range map[string]bool{
		"=srl\x01\x00\x01":        true,
		"=\xf3rl\x05\x00\x01":     true,
		"=\xf3rl\x07\x00\x01":     true,
		"=\xf3rl\x02\x00\x01":     false,
		"=srl\x03\x00\x01":        false,
		"=\xc3\xb3rl\x05\x00\x01": false,
		"=\xf3rl\x05":             false,
		"pst0\x05\x0b":            false,
	} {
		if got := LooksLikeSereal([]byte(doc)); got != want {
			t.Errorf("%q: %v", doc, got)
		}
	}
}
