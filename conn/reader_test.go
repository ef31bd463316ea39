package conn

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/goimp/imprpc/conn/conntest"
	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/perl"
)

func loadStreams(t testing.TB) []conntest.Stream {
	t.Helper()
	ss, err := conntest.Streams()
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 10 {
		t.Fatalf("%d golden streams, want 10", len(ss))
	}
	return ss
}

func streamWire(t testing.TB, s conntest.Stream) Wire {
	t.Helper()
	f, err := ParseFormat(s.Wire)
	if err != nil {
		t.Fatal(err)
	}
	return Options{Format: f, SerealProtocol: 5}.MustWire()
}

// readAll reads messages until the end of the stream or a fatal error,
// with their offsets; recoverable errors are kept as entries.
type readEntry struct {
	off  int64
	m    Message
	json string
}

func readAll(t testing.TB, r *Reader) ([]readEntry, error) {
	t.Helper()
	var out []readEntry
	for {
		off := r.Offset()
		m, err := r.ReadMessage()
		if err == io.EOF {
			return out, nil
		}
		if err != nil && !Recoverable(err) {
			return out, err
		}
		e := readEntry{off: off, m: m}
		if err != nil {
			e.json = "error: " + err.Error()
		} else {
			j, jerr := AppendJSON(nil, m)
			if jerr != nil {
				t.Fatal(jerr)
			}
			e.json = string(j)
		}
		out = append(out, e)
	}
}

// Each golden stream reads as its frames, at their offsets.
func TestGoldenStreams(t *testing.T) {
	for _, s := range loadStreams(t) {
		t.Run(s.Name, func(t *testing.T) {
			w := streamWire(t, s)
			got, err := readAll(t, w.NewReader(bytes.NewReader(s.Bytes())))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(s.Frames) {
				t.Fatalf("%d frames, want %d", len(got), len(s.Frames))
			}
			for i, f := range s.Frames {
				if got[i].off != int64(f.Offset) {
					t.Errorf("frame %d at offset %d, want %d", i, got[i].off, f.Offset)
				}
				want, err := argsMessage(t, Op(f.Opcode), f.Args)
				sameJSON(t, "frame", []byte(got[i].json), jsonOf(t, want, err))
			}
		})
	}
}

// Every stream split at every byte position, and fed a byte at a time,
// reads as the same frames; cut short at any position it gives the frames
// before the cut and then either io.EOF (at a frame boundary) or "eof
// inside operation".
func TestStreamsCutEverywhere(t *testing.T) {
	for _, s := range loadStreams(t) {
		t.Run(s.Name, func(t *testing.T) {
			w := streamWire(t, s)
			b := s.Bytes()
			whole, err := readAll(t, w.NewReader(bytes.NewReader(b)))
			if err != nil {
				t.Fatal(err)
			}
			same := func(what string, got []readEntry) {
				t.Helper()
				if len(got) != len(whole) {
					t.Fatalf("%s: %d frames, want %d", what, len(got), len(whole))
				}
				for i := range got {
					if d := diffMessages(got[i].m, whole[i].m); d != "" || got[i].off != whole[i].off {
						t.Fatalf("%s: frame %d differs: %s", what, i, d)
					}
				}
			}
			got, err := readAll(t, w.NewReader(iotest.OneByteReader(bytes.NewReader(b))))
			if err != nil {
				t.Fatal(err)
			}
			same("byte by byte", got)
			boundary := map[int]int{0: 0}
			for i, f := range s.Frames {
				boundary[f.Offset+f.Length] = i + 1
			}
			for cut := 0; cut <= len(b); cut++ {
				got, err := readAll(t, w.NewReader(io.MultiReader(bytes.NewReader(b[:cut]), bytes.NewReader(b[cut:]))))
				if err != nil {
					t.Fatalf("split at %d: %v", cut, err)
				}
				same("split", got)

				got, err = readAll(t, w.NewReader(bytes.NewReader(b[:cut])))
				if n, ok := boundary[cut]; ok {
					if err != nil || len(got) != n {
						t.Fatalf("cut at frame boundary %d: %d frames, %v", cut, len(got), err)
					}
					continue
				}
				var fe *FrameError
				if !errors.As(err, &fe) || !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "eof inside operation") {
					t.Fatalf("cut at %d: error %v, want eof inside operation", cut, err)
				}
				if fe.Offset != int64(s.Frames[len(got)].Offset) {
					t.Errorf("cut at %d: error at offset %d, want %d", cut, fe.Offset, s.Frames[len(got)].Offset)
				}
			}
		})
	}
}

// storableFrame makes a Storable frame with any op and payload.
func storableFrame(op uint16, payload []byte, bigEndian bool) []byte {
	h := make([]byte, 6)
	if bigEndian {
		h[0], h[1] = byte(op>>8), byte(op)
		h[2], h[3], h[4], h[5] = byte(len(payload)>>24), byte(len(payload)>>16), byte(len(payload)>>8), byte(len(payload))
	} else {
		h[0], h[1] = byte(op), byte(op>>8)
		h[2], h[3], h[4], h[5] = byte(len(payload)), byte(len(payload)>>8), byte(len(payload)>>16), byte(len(payload)>>24)
	}
	return append(h, payload...)
}

// A big-endian peer's frames are recognised from the first frame.
func TestStorableBigEndian(t *testing.T) {
	be := Options{BigEndian: true}.MustWire()
	le := Options{}.MustWire()
	var stream []byte
	msgs := []Message{
		&SetVersion{Version: 1},
		&Data{ID: 7, Dir: 1, Offset: 1 << 40, Type: imp.DataStream, Data: []byte("hello")},
		&Result{ID: 7, Result: imp.Pass(1, imp.MaxOffset)},
	}
	for _, m := range msgs {
		var err error
		if stream, err = be.Append(stream, m); err != nil {
			t.Fatal(err)
		}
	}
	if stream[0] != 0x40 || stream[1] != 0x06 {
		t.Fatalf("big-endian header %x", stream[:6])
	}
	r := le.NewReader(bytes.NewReader(stream))
	for i, want := range msgs {
		m, err := r.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if d := diffMessages(m, want); d != "" {
			t.Errorf("message %d: %s", i, d)
		}
	}
	if be, known := r.BigEndian(); !be || !known {
		t.Errorf("BigEndian() = %v, %v", be, known)
	}
	if _, err := r.ReadMessage(); err != io.EOF {
		t.Errorf("end: %v", err)
	}
}

// Corrupt input gives the documented errors, never a panic.
func TestCorruptInput(t *testing.T) {
	st := Options{MaxFrameSize: 1 << 10}.MustWire()
	sr := Options{Format: Sereal, MaxFrameSize: 1 << 10}.MustWire()
	validPayload := func() []byte {
		f, _ := st.Append(nil, &DeleteAnalyzer{ID: 1})
		return f[6:]
	}()
	srlDoc := func(m Message) []byte {
		f, err := sr.Append(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	tests := []struct {
		name    string
		wire    Wire
		input   []byte
		check   func(error) bool
		message string
		more    bool // the reader goes on after the error
		cut     bool // the input ends inside a frame: append nothing
	}{
		{"storable unknown op", st, storableFrame(0x4999, validPayload, false),
			func(err error) bool { var e *UnknownOpError; return errors.As(err, &e) && e.Op == 0x4999 }, "unknown op 18841 (0x4999)", true, false},
		{"storable length over the limit", st, []byte{0x05, 0x40, 0x01, 0x04, 0, 0},
			func(err error) bool { var e *LimitError; return errors.As(err, &e) && e.Got == 1025+6 }, "exceeds MaxFrameSize", false, false},
		{"storable length of 4 GiB", st, []byte{0x05, 0x40, 0xff, 0xff, 0xff, 0xff},
			func(err error) bool { var e *LimitError; return errors.As(err, &e) }, "exceeds MaxFrameSize", false, false},
		{"storable payload not Storable", st, storableFrame(0x4005, []byte("GET / HTTP/1.0\r\n"), false),
			func(err error) bool { var e *PayloadError; return errors.As(err, &e) && e.Op == OpData }, "data: payload is not a Storable image", true, false},
		{"storable payload truncated", st, storableFrame(0x4004, validPayload[:len(validPayload)-1], false),
			func(err error) bool { var e *PayloadError; return errors.As(err, &e) }, "payload is not a Storable image", true, false},
		{"storable payload not an array", st, storableFrame(0x4004, []byte{0x05, 0x0b, 0x0a, 0x01, 'x'}, false),
			func(err error) bool { var e *PayloadError; return errors.As(err, &e) }, "payload is not an array of arguments", true, false},
		{"storable frame cut", st, storableFrame(0x4004, validPayload, false)[:10],
			func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }, "offset 0: eof inside operation", false, true},
		{"storable header cut", st, []byte{0x04, 0x40, 0x09},
			func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }, "eof inside operation", false, true},
		{"storable data with a wrong argument", st, storableFrame(0x4005, mustMarshalArgs(t, perl.Bytes("id"), perl.Int(0), perl.Int(0), perl.Int(-1), perl.Bytes("x")), false),
			func(err error) bool { var e *ArgError; return errors.As(err, &e) && e.Arg == 0 }, `data: arg 0 (analyzer_id): not an integer: bytes "id"`, true, false},
		{"storable data with too few arguments", st, storableFrame(0x4005, mustMarshalArgs(t, perl.Int(1)), false),
			func(err error) bool { var e *ArgError; return errors.As(err, &e) && e.Arg == -1 }, "data: want 5 arguments, got 1", true, false},
		{"sereal garbage", sr, []byte("GET / HTTP/1.0\r\n\r\n"),
			func(err error) bool { var e *FrameError; return errors.As(err, &e) }, "offset 0: not a Sereal document", false, false},
		{"sereal unknown op", sr, srlDoc(&Raw{Code: 0x4999, Args: []perl.Value{perl.Int(1)}}),
			func(err error) bool { var e *UnknownOpError; return errors.As(err, &e) }, "unknown op 18841", true, false},
		{"sereal document over the limit", sr, append([]byte("=\xf3rl\x05\x00\x42\x20\x85\x80\x01\x26\x80\x10"), make([]byte, 100)...),
			func(err error) bool { var e *LimitError; return errors.As(err, &e) }, "exceeds MaxFrameSize", false, false},
		{"sereal document cut", sr, srlDoc(&DeleteAnalyzer{ID: 300})[:13],
			func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }, "eof inside operation", false, true},
		{"sereal root not an array", sr, []byte("=\xf3rl\x05\x00\x61x"),
			func(err error) bool { var e *PayloadError; return errors.As(err, &e) }, "not a reference to [op, args...]", true, false},
		{"sereal op not an integer", sr, []byte("=\xf3rl\x05\x00\x42\x61x\x01"),
			func(err error) bool { var e *PayloadError; return errors.As(err, &e) }, `op is not an integer: bytes "x"`, true, false},
		{"sereal protocol 7", sr, []byte("=\xf3rl\x07\x00\x41\x01"),
			func(err error) bool { var e *FrameError; return errors.As(err, &e) }, "protocol version 7 not supported", false, false},
		{"sereal hash announcing 2**56 pairs", sr, []byte("=\xf3rl\x05\x00*\x85\xe2\xe2\xe2\xe2\xd2\xe2\xe2\xe2\x0100001"),
			func(err error) bool {
				var e *FrameError
				var l *LimitError
				return errors.As(err, &e) || errors.As(err, &l)
			}, "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, follow := range []bool{false, true} {
				if follow && tt.cut {
					continue
				}
				input := tt.input
				if follow {
					// A good frame after the bad one: read only after
					// recoverable errors.
					good, _ := tt.wire.Append(nil, &DeleteAnalyzer{ID: 42})
					input = append(append([]byte(nil), input...), good...)
				}
				r := tt.wire.NewReader(bytes.NewReader(input))
				m, err := r.ReadMessage()
				if err == nil || !tt.check(err) || !strings.Contains(err.Error(), tt.message) || !strings.HasPrefix(err.Error(), "conn: ") {
					t.Fatalf("got %v, %v", m, err)
				}
				if Recoverable(err) != tt.more {
					t.Errorf("Recoverable = %v", !tt.more)
				}
				next, err2 := r.ReadMessage()
				switch {
				case !tt.more && err2 != err:
					t.Errorf("after a fatal error: %v, %v; want the same error again", next, err2)
				case tt.more && follow:
					if d, ok := next.(*DeleteAnalyzer); !ok || d.ID != 42 {
						t.Errorf("after a recoverable error: %v, %v", next, err2)
					}
				}
			}
		})
	}
}

func mustMarshalArgs(t testing.TB, args ...perl.Value) []byte {
	t.Helper()
	w := Options{}.MustWire().(*storableWire)
	b, err := w.enc.AppendValue(nil, perl.NewArray(args...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Large frames of every shape are read into memory of their own, also
// when the framing only knows a lower bound of their length at first
// (Sereal documents that are not plain scalars), and the frame after them
// is read as well, however the stream is split.
func TestLargeFrames(t *testing.T) {
	meta := perl.NewHash(2)
	meta.Set("big", perl.Bytes(bytes.Repeat([]byte("m"), 100<<10)))
	meta.Set("cport", perl.Int(40001))
	ctx := perl.NewHash(1)
	ctx.Set("meta", perl.HashRef(meta))
	msgs := []Message{
		&NewAnalyzer{ID: 1, Context: perl.HashRef(ctx)},
		&Data{ID: 1, Type: imp.DataStream, Data: bytes.Repeat([]byte("d"), 300<<10)},
		&Result{ID: 1, Result: imp.Replace(0, 300<<10, bytes.Repeat([]byte("r"), 70<<10))},
		&Result{ID: 1, Result: imp.PassPattern(0, imp.QR(strings.Repeat("x", 20<<10), "i"), 4)},
		&DeleteAnalyzer{ID: 1},
	}
	for _, f := range []Format{Storable, Sereal} {
		w := Options{Format: f}.MustWire()
		stream := frames(t, w, msgs...)
		for _, in := range []io.Reader{bytes.NewReader(stream), iotest.HalfReader(bytes.NewReader(stream)), &chunkReader{b: stream}} {
			r := w.NewReader(in)
			for i, want := range msgs {
				m, err := r.ReadMessage()
				if err != nil {
					t.Fatalf("%s: message %d: %v", f, i, err)
				}
				if d := diffMessages(m, want); d != "" {
					t.Fatalf("%s: message %d: %s", f, i, d)
				}
			}
			if _, err := r.ReadMessage(); err != io.EOF {
				t.Fatalf("%s: end: %v", f, err)
			}
		}
	}
}
