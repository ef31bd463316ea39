package sereal

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"

	"github.com/goimp/imprpc/perl"
)

// TestDocumentLengthPrefixes cuts every corpus document at every length:
// a prefix is ErrIncomplete with a lower bound that the whole document
// meets, the whole document gives its length, and bytes after it do not
// change that.
func TestDocumentLengthPrefixes(t *testing.T) {
	for _, d := range loadPerlDocs(t) {
		doc := d.doc
		for i := 0; i < len(doc); i++ {
			n, err := DocumentLength(doc[:i])
			if !errors.Is(err, ErrIncomplete) {
				t.Fatalf("%s: prefix of %d bytes: %d, %v; want ErrIncomplete", d.label(), i, n, err)
			}
			if n <= i || n > len(doc) {
				t.Fatalf("%s: prefix of %d bytes: lower bound %d, document has %d", d.label(), i, n, len(doc))
			}
		}
		more := append(append([]byte(nil), doc...), doc...)
		if n, err := DocumentLength(more); err != nil || n != len(doc) {
			t.Fatalf("%s: two documents: %d, %v; want %d", d.label(), n, err, len(doc))
		}
	}
}

// TestDocumentLengthErrors checks that what cannot start a document is an
// error at once, not a wait for more bytes.
func TestDocumentLengthErrors(t *testing.T) {
	small, err := DecOptions{MaxSize: 100}.DecMode()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		in   string
		mode DecMode
		want any
	}{
		{"bad magic", "GET / HTTP/1.0\r\n", nil, &SyntaxError{}},
		{"bad first byte", "x", nil, &SyntaxError{}},
		{"UTF-8 encoded magic", "=\xc3\xb3rl\x05\x00\x01", nil, &SyntaxError{}},
		{"version 0", "=srl\x00\x00\x01", nil, &SyntaxError{}},
		{"version 3 with old magic", "=srl\x03\x00\x01", nil, &SyntaxError{}},
		{"version 2 with new magic", "=\xf3rl\x02\x00\x01", nil, &SyntaxError{}},
		{"version 6", "=\xf3rl\x06\x00\x01", nil, &UnsupportedError{}},
		{"version 7", "=\xf3rl\x07\x00\x01", nil, &UnsupportedError{}},
		{"document type 5", "=\xf3rl\x55\x00\x01", nil, &UnsupportedError{}},
		{"unknown tag", "=\xf3rl\x05\x00\x3c", nil, &SyntaxError{}},
		{"long varint", "=\xf3rl\x05\x00\x20\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", nil, &SyntaxError{}},
		{"string over MaxSize", "=\xf3rl\x05\x00\x26\x80\x01", small, &LimitError{}},
		{"array over MaxSize", "=\xf3rl\x05\x00\x28\x2b\xff\x01", small, &LimitError{}},
		{"suffix over MaxSize", "=\xf3rl\x05\x80\x01", small, &LimitError{}},
		{"compressed over MaxSize", "=\xf3rl\x25\x00\x80\x01", small, &LimitError{}},
	} {
		m := c.mode
		if m == nil {
			m = defaultDecMode
		}
		_, err := m.DocumentLength([]byte(c.in))
		if err == nil || errors.Is(err, ErrIncomplete) {
			t.Errorf("%s: %v, want an error", c.name, err)
			continue
		}
		if !errorIsType(err, c.want) {
			t.Errorf("%s: %T %v, want %T", c.name, err, err, c.want)
		}
	}
}

func errorIsType(err error, want any) bool {
	switch want.(type) {
	case *SyntaxError:
		var e *SyntaxError
		return errors.As(err, &e)
	case *LimitError:
		var e *LimitError
		return errors.As(err, &e)
	case *UnsupportedError:
		var e *UnsupportedError
		return errors.As(err, &e)
	}
	return false
}

// corpusStream returns every document of the corpus back to back.
func corpusStream(t testing.TB) ([]*perlDoc, []byte) {
	docs := loadPerlDocs(t)
	var all []byte
	for _, d := range docs {
		all = append(all, d.doc...)
	}
	return docs, all
}

// chunkReader returns its data in pieces of random sizes.
type chunkReader struct {
	data []byte
	rnd  *rand.Rand
	max  int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(r.data), 1+r.rnd.IntN(r.max))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// TestDecoderStream reads the whole corpus as one stream, split in many
// ways, and gets every document back in order.
func TestDecoderStream(t *testing.T) {
	docs, all := corpusStream(t)
	readers := map[string]func() io.Reader{
		"whole":    func() io.Reader { return bytes.NewReader(all) },
		"one byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(all)) },
		"half":     func() io.Reader { return iotest.HalfReader(bytes.NewReader(all)) },
		"data+EOF": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(all)) },
		"chunks": func() io.Reader {
			return &chunkReader{data: all, rnd: rand.New(rand.NewPCG(1, 2)), max: 700}
		},
	}
	for name, r := range readers {
		dec := NewDecoder(r())
		for i, d := range docs {
			raw, err := dec.Next()
			if err != nil {
				t.Fatalf("%s: document %d (%s): %v", name, i, d.label(), err)
			}
			if !bytes.Equal(raw, d.doc) {
				t.Fatalf("%s: document %d (%s): got %x", name, i, d.label(), raw)
			}
		}
		if _, err := dec.Next(); err != io.EOF {
			t.Fatalf("%s: after the last document: %v, want io.EOF", name, err)
		}
	}
	// Decode gives the values, equal to those of Unmarshal.
	dec := NewDecoder(iotest.HalfReader(bytes.NewReader(all)))
	for i, d := range docs {
		var v perl.Value
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("document %d (%s): %v", i, d.label(), err)
		}
		want, err := UnmarshalValue(d.doc)
		if err != nil {
			t.Fatal(err)
		}
		if diff := perl.Diff(v, want); diff != "" {
			t.Fatalf("document %d (%s): %s", i, d.label(), diff)
		}
	}
	if err := dec.Decode(new(perl.Value)); err != io.EOF {
		t.Fatalf("after the last document: %v, want io.EOF", err)
	}
}

// TestDecoderStreamEveryCut feeds a stream of documents cut at every byte
// position, in two pieces that Read returns separately.
func TestDecoderStreamEveryCut(t *testing.T) {
	docs := loadPerlDocs(t)
	var stream []byte
	var want [][]byte
	for _, d := range docs[:40] {
		stream = append(stream, d.doc...)
		want = append(want, d.doc)
	}
	for cut := 0; cut <= len(stream); cut++ {
		dec := NewDecoder(io.MultiReader(bytes.NewReader(stream[:cut]), bytes.NewReader(stream[cut:])))
		for i := range want {
			got, err := dec.Next()
			if err != nil || !bytes.Equal(got, want[i]) {
				t.Fatalf("cut at %d: document %d: %x, %v", cut, i, got, err)
			}
		}
		if _, err := dec.Next(); err != io.EOF {
			t.Fatalf("cut at %d: %v, want io.EOF", cut, err)
		}
	}
}

func TestDecoderStreamErrors(t *testing.T) {
	docs := loadPerlDocs(t)
	one := docs[10].doc

	// Cut inside a document: io.ErrUnexpectedEOF, with the offset where
	// the stream ended.
	cut := append(append([]byte(nil), one...), one[:len(one)-1]...)
	dec := NewDecoder(bytes.NewReader(cut))
	if _, err := dec.Next(); err != nil {
		t.Fatal(err)
	}
	_, err := dec.Next()
	var se *SyntaxError
	if !errors.Is(err, io.ErrUnexpectedEOF) || !errors.As(err, &se) || se.Offset != int64(len(cut)) {
		t.Fatalf("cut stream: %v", err)
	}

	// Garbage after a document: the document, then an error that stays.
	dec = NewDecoder(bytes.NewReader(append(append([]byte(nil), one...), "garbage"...)))
	if _, err := dec.Next(); err != nil {
		t.Fatal(err)
	}
	_, err1 := dec.Next()
	_, err2 := dec.Next()
	if !errors.As(err1, &se) || se.Offset != int64(len(one)) || err2 != err1 {
		t.Fatalf("garbage: %v, then %v", err1, err2)
	}

	// A document that is framed but not decodable is skipped.
	bad := []byte("=\xf3rl\x05\x00\x41\x38" + string(make([]byte, 16))) // [FLOAT_128]
	stream := append(append(append([]byte(nil), one...), bad...), one...)
	dec = NewDecoder(iotest.OneByteReader(bytes.NewReader(stream)))
	var v perl.Value
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	err = dec.Decode(&v)
	var ue *UnsupportedError
	if !errors.As(err, &ue) || ue.Offset != int64(len(one)+7) {
		t.Fatalf("FLOAT_128: %v", err)
	}
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("after the bad document: %v", err)
	}
	if err := dec.Decode(&v); err != io.EOF {
		t.Fatalf("end: %v", err)
	}

	// A read error comes through once the buffered documents are read.
	boom := errors.New("boom")
	dec = NewDecoder(io.MultiReader(bytes.NewReader(one), iotest.ErrReader(boom)))
	if _, err := dec.Next(); err != nil {
		t.Fatal(err)
	}
	if _, err := dec.Next(); err != boom {
		t.Fatalf("read error: %v", err)
	}

	// A stream over MaxSize stops at the limit without reading it all.
	m, err := DecOptions{MaxSize: 64}.DecMode()
	if err != nil {
		t.Fatal(err)
	}
	long, err := MarshalValue(perl.Bytes(make([]byte, 1000)))
	if err != nil {
		t.Fatal(err)
	}
	dec = m.NewDecoder(bytes.NewReader(long))
	var le *LimitError
	if _, err := dec.Next(); !errors.As(err, &le) || le.Limit != "MaxSize" {
		t.Fatalf("over MaxSize: %v", err)
	}
}

func TestDecoderBuffered(t *testing.T) {
	docs := loadPerlDocs(t)
	a, b := docs[3].doc, docs[4].doc
	stream := append(append(append([]byte(nil), a...), b...), "tail"...)
	dec := NewDecoder(bytes.NewReader(stream))
	if _, err := dec.Next(); err != nil {
		t.Fatal(err)
	}
	if dec.InputOffset() != int64(len(a)) {
		t.Fatalf("InputOffset %d", dec.InputOffset())
	}
	rest, err := io.ReadAll(dec.Buffered())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(append(append([]byte(nil), b...), "tail"...), rest) {
		t.Fatalf("Buffered returned %q", rest)
	}
}

// TestEncoderStream writes documents with an Encoder and reads them back.
func TestEncoderStream(t *testing.T) {
	var buf bytes.Buffer
	enc := NewEncoder(&buf)
	vals := []perl.Value{perl.Int(1), perl.ArrayRef(perl.Bytes("a")), perl.String("☺")}
	for _, v := range vals {
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
	}
	dec := NewDecoder(&buf)
	for _, want := range vals {
		var got perl.Value
		if err := dec.Decode(&got); err != nil {
			t.Fatal(err)
		}
		if d := perl.Diff(got, want); d != "" {
			t.Fatal(d)
		}
	}
	if err := enc.EncodeValue(nil); err == nil {
		t.Fatal("nil value encoded")
	}
}

// TestDocumentLengthHugeCount checks that a container announcing more
// items than any document can hold is refused the same way whatever prefix
// of it is given: item counters saturate instead of wrapping around to an
// early end of the document.
func TestDocumentLengthHugeCount(t *testing.T) {
	// A hash of about 2^63 entries, then WEAKEN x4 and REGEXP.
	doc, _ := hex.DecodeString("3df3726c05002a85e2e2e2e2d2e2e2e2013030303031")
	for i := 7; i <= len(doc); i++ {
		n, err := DocumentLength(doc[:i])
		var le *LimitError
		if errors.Is(err, ErrIncomplete) && i < 17 {
			continue // the count itself is not complete yet
		}
		if !errors.As(err, &le) {
			t.Errorf("prefix of %d bytes: %d, %v; want a LimitError", i, n, err)
		}
	}
}
