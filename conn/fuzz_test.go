package conn

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/goimp/imprpc/conn/conntest"
	"github.com/goimp/imprpc/sereal"
	"github.com/goimp/imprpc/storable"
)

// addSeeds adds the golden frames and streams of one wire (bytes Perl
// wrote) to the corpus.
func addSeeds(f *testing.F, wire string) {
	vs, err := conntest.Vectors()
	if err != nil {
		f.Fatal(err)
	}
	var all []byte
	for _, v := range vs {
		f.Add(v.Frame(wire))
		all = append(all, v.Frame(wire)...)
	}
	f.Add(all)
	ss, err := conntest.Streams()
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range ss {
		if s.Wire == wire {
			f.Add(s.Bytes())
		}
	}
}

// fuzzReader reads everything in data with w, and checks: no panic; the
// same frames whether the input comes whole or a byte at a time; the fast
// path and the general decoder agree; every message decoded encodes and
// decodes again to itself.
func fuzzReader(t *testing.T, w Wire, data []byte) {
	whole := readFuzz(t, w, bytes.NewReader(data))
	bytewise := readFuzz(t, w, &chunkReader{b: data})
	if len(whole) != len(bytewise) {
		t.Fatalf("%d frames whole, %d byte by byte", len(whole), len(bytewise))
	}
	for i := range whole {
		if d := diffResults(whole[i].m, whole[i].err, bytewise[i].m, bytewise[i].err); d != "" {
			t.Fatalf("frame %d: whole and in pieces differ: %s", i, d)
		}
	}
	// ReadMessage, which frames and decodes plain frames in one pass,
	// gives the same as ReadFrame and a decode of each frame.
	for _, in := range []io.Reader{bytes.NewReader(data), &chunkReader{b: data}} {
		r := w.NewReader(in)
		for i := 0; ; i++ {
			m, err := r.ReadMessage()
			if err == io.EOF || (err != nil && !Recoverable(err)) {
				if i != len(whole) {
					t.Fatalf("ReadMessage: %d frames, ReadFrame: %d (%v)", i, len(whole), err)
				}
				break
			}
			if i >= len(whole) {
				t.Fatalf("ReadMessage: more frames than ReadFrame (%d)", len(whole))
			}
			if d := diffResults(m, err, whole[i].m, whole[i].err); d != "" {
				t.Fatalf("frame %d: ReadMessage and ReadFrame differ: %s", i, d)
			}
		}
	}
	for _, e := range whole {
		if e.frame == nil {
			continue
		}
		g, gerr := decodeGeneralState(w, e.frame, e.off, e.st)
		if d := diffResults(e.m, e.err, g, gerr); d != "" {
			t.Fatalf("fast path and general decoder differ on %x: %s", e.frame, d)
		}
		if e.err != nil {
			continue
		}
		re, err := w.Append(nil, e.m)
		var le *LimitError
		var su *sereal.UnsupportedValueError
		var tu *storable.UnsupportedValueError
		if errors.As(err, &le) || errors.As(err, &su) || errors.As(err, &tu) {
			// Re-encoded bigger than the limit (numbers as strings), or
			// a value the decoders read but Perl could not (a regexp
			// with /n for Sereal::Decoder).
			continue
		}
		if err != nil {
			t.Fatalf("re-encoding %#v: %v", e.m, err)
		}
		// Encoding may change a value (Storable's network order writes
		// doubles as strings; Sereal writes a weak reference that nothing
		// else holds as PAD, which reads back as a strong one); after two
		// rounds it is stable.
		re2 := reencode(t, w, re)
		if !bytes.Equal(re, re2) {
			if re3 := reencode(t, w, re2); !bytes.Equal(re2, re3) {
				t.Fatalf("encoding is not stable for %x: %x, %x, %x", e.frame, re, re2, re3)
			}
		}
	}
}

// reencode decodes a frame the wire wrote and encodes it again.
func reencode(t *testing.T, w Wire, frame []byte) []byte {
	t.Helper()
	m, err := w.(codec).decode(frame, 0, false, readState{order: orderLE})
	if err != nil {
		t.Fatalf("decoding the re-encoded %x: %v", frame, err)
	}
	again, err := w.Append(nil, m)
	if err != nil {
		t.Fatalf("encoding again %x: %v", frame, err)
	}
	return again
}

// chunkReader returns its bytes in pieces of 1 to 7 bytes.
type chunkReader struct {
	b []byte
	n int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	r.n = r.n%7 + 1
	n := copy(p[:min(len(p), r.n)], r.b)
	r.b = r.b[n:]
	return n, nil
}

type fuzzEntry struct {
	frame []byte
	off   int64
	st    readState
	m     Message
	err   error
}

func readFuzz(t *testing.T, w Wire, in io.Reader) []fuzzEntry {
	r := w.NewReader(in)
	var out []fuzzEntry
	for i := 0; i < 10000; i++ {
		off := r.Offset()
		frame, err := r.ReadFrame()
		if err != nil {
			if err != io.EOF && Recoverable(err) {
				t.Fatalf("ReadFrame: recoverable error %v", err)
			}
			return out
		}
		frame = append([]byte(nil), frame...)
		m, err := r.c.decode(frame, off, false, r.st) // the byte order the reader framed it with
		if err != nil && !Recoverable(err) {
			t.Fatalf("decode of a framed frame %x: fatal error %v", frame, err)
		}
		out = append(out, fuzzEntry{frame: frame, off: off, st: r.st, m: m, err: err})
	}
	return out
}

func FuzzStorableReader(f *testing.F) {
	addSeeds(f, conntest.Storable)
	w := Options{MaxFrameSize: 1 << 20}.MustWire()
	f.Fuzz(func(t *testing.T, data []byte) { fuzzReader(t, w, data) })
}

func FuzzSerealReader(f *testing.F) {
	addSeeds(f, conntest.Sereal)
	w := Options{Format: Sereal, SerealProtocol: 5, MaxFrameSize: 1 << 20}.MustWire()
	f.Fuzz(func(t *testing.T, data []byte) { fuzzReader(t, w, data) })
}

// FuzzParseJSON reads the JSON form of messages: no panic, and what it
// reads prints and reads back to the same message.
func FuzzParseJSON(f *testing.F) {
	vs, err := conntest.Vectors()
	if err != nil {
		f.Fatal(err)
	}
	w := Options{}.MustWire()
	for _, v := range vs {
		m, err := w.Decode(v.Frame(conntest.Storable))
		if err != nil {
			continue
		}
		j, err := AppendJSON(nil, m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(j)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		m, err := ParseJSON(line)
		if err != nil {
			return
		}
		j, err := AppendJSON(nil, m)
		if err != nil {
			return // values tagged JSON cannot show (checked elsewhere)
		}
		back, err := ParseJSON(j)
		if err != nil {
			t.Fatalf("%s: printed as %s, which does not read back: %v", line, j, err)
		}
		j2, err := AppendJSON(nil, back)
		if err != nil || !bytes.Equal(j, j2) {
			t.Fatalf("%s: %s then %s (%v)", line, j, j2, err)
		}
	})
}
