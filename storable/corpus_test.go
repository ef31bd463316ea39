package storable

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/goimp/imprpc/perl"
)

// perlImages returns the images Perl's Storable wrote into the seed corpus
// (perl-fixtures/storable-corpus.pl), by file name.
func perlImages(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzDecode", "perl-*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Perl images in testdata/fuzz/FuzzDecode (%v)", err)
	}
	m := make(map[string][]byte, len(files))
	for _, f := range files {
		m[filepath.Base(f)] = readSeed(t, f)
	}
	return m
}

// readSeed reads a file of Go's fuzzing corpus holding one []byte.
func readSeed(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(strings.TrimSpace(string(data)), "\n", 2)
	if len(lines) != 2 || lines[0] != "go test fuzz v1" {
		t.Fatalf("%s: not a corpus file", path)
	}
	lit := strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")")
	s, err := strconv.Unquote(lit)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return []byte(s)
}

// modeFor returns the EncMode that writes images like img.
func modeFor(t testing.TB, img []byte, canonical bool) EncMode {
	t.Helper()
	m, err := encModeFor(img, canonical)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func encModeFor(img []byte, canonical bool) (EncMode, error) {
	h, err := ParseHeader(img)
	if err != nil {
		return nil, err
	}
	o := EncOptions{Canonical: canonical}
	if h.File {
		o.Format = FileImage
	}
	if !h.NetOrder {
		o.Order = NativeOrder
		o.Machine = Machine{ByteOrder: h.ByteOrder, IntSize: h.IntSize, LongSize: h.LongSize, PtrSize: h.PtrSize, NVSize: h.NVSize}
	}
	return o.EncMode()
}

// Every image Perl wrote decodes, and encodes again to the same bytes, in
// the hash order it had and sorted (Perl sorted its hashes).
func TestPerlImagesRoundTrip(t *testing.T) {
	for name, img := range perlImages(t) {
		v, err := UnmarshalValue(img)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for _, canonical := range []bool{false, true} {
			got, err := modeFor(t, img, canonical).MarshalValue(v)
			if err != nil {
				t.Errorf("%s: encoding: %v", name, err)
				continue
			}
			if !bytes.Equal(got, img) {
				t.Errorf("%s (canonical %v): encoded differently\nperl %x\ngo   %x", name, canonical, img, got)
			}
		}
	}
}

// An image cut short anywhere is an error that says so, never a value.
func TestTruncatedImages(t *testing.T) {
	for name, img := range perlImages(t) {
		for n := range len(img) {
			_, err := UnmarshalValue(img[:n])
			var se *SyntaxError
			if !errors.As(err, &se) || !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("%s cut to %d bytes: got error %v, want a SyntaxError matching io.ErrUnexpectedEOF", name, n, err)
			}
		}
	}
}

// An image copied in text mode (LF to CR LF) gives an error or, when it
// holds no LF byte, the same value.
func TestCRLFDamage(t *testing.T) {
	damaged := 0
	for name, img := range perlImages(t) {
		crlf := bytes.ReplaceAll(img, []byte("\n"), []byte("\r\n"))
		v, err := UnmarshalValue(crlf)
		if bytes.Equal(crlf, img) {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		damaged++
		if err == nil {
			orig, _ := UnmarshalValue(img)
			t.Errorf("%s: damaged image decoded without error: %s", name, perl.Diff(orig, v))
		}
	}
	if damaged == 0 {
		t.Fatal("no image with an LF byte in the corpus")
	}
}

// Decoders of streams read each image exactly: images in a row decode one
// by one, and what follows the last one stays in the reader.
func TestDecoderReadsExactlyOneImage(t *testing.T) {
	imgs := perlImages(t)
	var names []string
	var stream bytes.Buffer
	for name, img := range imgs {
		names = append(names, name)
		stream.Write(img)
	}
	stream.WriteString("tail")
	dec := NewDecoder(&stream)
	for _, name := range names {
		got, err := dec.DecodeValue()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want, _ := UnmarshalValue(imgs[name])
		if d := perl.Diff(want, got); d != "" {
			t.Fatalf("%s: %s", name, d)
		}
	}
	if rest := stream.String(); rest != "tail" {
		t.Fatalf("left in the stream: %q, want \"tail\"", rest)
	}
	if _, err := NewDecoder(&stream).DecodeValue(); err == nil {
		t.Fatal("decoded \"tail\" as an image")
	}
	if _, err := NewDecoder(strings.NewReader("")).DecodeValue(); err != io.EOF {
		t.Fatalf("empty stream: got %v, want io.EOF", err)
	}
}
