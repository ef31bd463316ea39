package conn

import (
	"fmt"
	"io"
	"strings"

	"github.com/goimp/imprpc/sereal"
)

// Format selects one of the two wire formats of Net::IMP::Remote.
type Format uint8

const (
	// Storable is Net::IMP::Remote's default wire (impl=Storable): each
	// RPC is op:u16 | length:u32 in the sender's native byte order, then
	// length bytes of Storable::nfreeze(\@args).
	Storable Format = iota
	// Sereal (impl=Sereal): each RPC is one Sereal document holding a
	// reference to [op, args...], documents back to back.
	Sereal
)

// String returns "storable" or "sereal".
func (f Format) String() string {
	switch f {
	case Storable:
		return "storable"
	case Sereal:
		return "sereal"
	}
	return fmt.Sprintf("format(%d)", uint8(f))
}

// ParseFormat reads the name of a wire format, in any case ("Storable",
// "sereal"), as Net::IMP::Remote's impl option and imprpc_server.pl's -I
// name them.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "storable":
		return Storable, nil
	case "sereal":
		return Sereal, nil
	}
	return 0, &ParseError{What: "wire format", Text: s}
}

// DefaultMaxFrameSize is the default of Options.MaxFrameSize: 64 MiB.
const DefaultMaxFrameSize = 64 << 20

// maxStorablePayload is the largest payload the Storable frame header can
// announce (an unsigned 32-bit length).
const maxStorablePayload = 1<<32 - 1

// Options configure a Wire. The zero value is the Storable wire as a
// little-endian Perl (x86_64, arm64) speaks it, with the default limits.
type Options struct {
	// Format is the wire format; the zero value is Storable.
	Format Format
	// MaxFrameSize limits the size in bytes of one frame, header
	// included, read or written; 0 means DefaultMaxFrameSize. A frame
	// that announces more is an error before any memory is allocated
	// for it.
	MaxFrameSize int
	// BigEndian makes the Storable wire write frame headers big-endian,
	// as a Perl on a big-endian machine does. Readers recognise the byte
	// order of the frames they read by themselves.
	BigEndian bool
	// SortKeys writes hash keys (of new_analyzer contexts and any hash
	// in result arguments) sorted in Perl's string order
	// ($Storable::canonical, Sereal's sort_keys => 2), for reproducible
	// bytes. By default keys go out in the order of perl.Hash.Entries,
	// which for a decoded hash is the order it came in.
	SortKeys bool
	// SerealProtocol is the Sereal protocol version written, 1 to 5; 0
	// means sereal.DefaultProtocol (3), which every Sereal::Decoder from
	// 3.0 on reads. Perl's Sereal::Encoder 5.x writes 5: with 5 the
	// frames are byte for byte what Net::IMP::Remote writes.
	SerealProtocol int
	// SerealStringTail writes an integer outside -16..15 that is the last
	// scalar of a Sereal document (a result's offset, a delete_analyzer
	// id, the lport of a new_analyzer context, the op of an RPC without
	// arguments) as its decimal string, which Net::IMP::Remote reads as
	// the same number, because Perl's Sereal::Decoder (5.003, 5.009)
	// misreads a document whose bytes, as one read delivers them, end
	// right after that integer's tag, and the connection then breaks (see
	// the package documentation). By default the integer goes out as Perl
	// writes it, for Perl's exact bytes.
	SerealStringTail bool
}

// Wire encodes messages into frames of one wire format and decodes them.
// It is immutable and safe for concurrent use.
type Wire interface {
	// Format returns the wire format.
	Format() Format
	// Options returns the options with every default filled in.
	Options() Options
	// Append appends the frame of m to dst and returns the extended
	// buffer. On error dst is returned unchanged. Data frames, and
	// results whose arguments are plain scalars, are written without
	// allocating when dst has room.
	Append(dst []byte, m Message) ([]byte, error)
	// Decode decodes one whole frame. The message does not refer to
	// frame. Errors are those of Reader.ReadMessage, with offsets
	// relative to the frame.
	Decode(frame []byte) (Message, error)
	// DecodeShared is Decode for a frame the caller hands over: the
	// message may share frame's memory (its data and strings are not
	// copied), so frame must not change while the message is in use.
	// A Reader does the same with the large frames it reads.
	DecodeShared(frame []byte) (Message, error)
	// NewReader returns a Reader of the frames of this wire in r.
	NewReader(r io.Reader) *Reader
}

// codec is what a Reader needs of a wire beyond the Wire interface.
type codec interface {
	Wire
	// frameLen returns the length of the frame at the start of buf, or
	// 0 and a lower bound of it (> len(buf)) when buf holds only its
	// beginning. st is the reader's state (Storable's byte order), next
	// what it is after the frame's header.
	frameLen(buf []byte, off int64, st readState) (n, need int, next readState, err error)
	// decode decodes the frame; owned says that nothing else uses frame,
	// so that the message may share its memory.
	decode(frame []byte, off int64, owned bool, st readState) (Message, error)
}

// fastDecoder is a codec that can frame and decode its common frames in
// one pass over the bytes a reader has buffered.
type fastDecoder interface {
	// decodeFrame decodes the frame at the start of buf and returns its
	// length; ok is false when buf does not start with a whole frame of
	// the fast path's shapes. owned as for codec.decode.
	decodeFrame(buf []byte, owned bool) (m Message, n int, ok bool)
}

// readState is what a reader learns about its stream.
type readState struct {
	// order is the Storable byte order: 0 not known yet, orderLE,
	// orderBE.
	order uint8
}

const (
	orderLE = 1
	orderBE = 2
)

// Wire returns the Wire the options describe.
func (o Options) Wire() (Wire, error) {
	if o.MaxFrameSize < 0 {
		return nil, fmt.Errorf("conn: MaxFrameSize %d is negative", o.MaxFrameSize)
	}
	if o.MaxFrameSize == 0 {
		o.MaxFrameSize = DefaultMaxFrameSize
	}
	switch o.Format {
	case Storable:
		return newStorableWire(o)
	case Sereal:
		if o.SerealProtocol == 0 {
			o.SerealProtocol = sereal.DefaultProtocol
		}
		return newSerealWire(o)
	}
	return nil, fmt.Errorf("conn: unknown wire format %d", o.Format)
}

// MustWire is Wire that panics on an error, for options known to be
// valid (package-level variables, tests).
func (o Options) MustWire() Wire {
	w, err := o.Wire()
	if err != nil {
		panic(err)
	}
	return w
}

// appendChecked finishes an append: it checks the frame that starts at
// start in dst against the limit and rewinds dst on any error.
func appendChecked(dst []byte, start int, op Op, max int, err error) ([]byte, error) {
	if err != nil {
		return dst[:start], err
	}
	if n := len(dst) - start; n > max {
		return dst[:start], &LimitError{Offset: -1, Op: op, Limit: "MaxFrameSize", Max: int64(max), Got: int64(n)}
	}
	return dst, nil
}

// decodeWhole decodes a frame given whole: it must be exactly one frame.
func decodeWhole(c codec, frame []byte, shared bool) (Message, error) {
	if fd, ok := c.(fastDecoder); ok {
		if m, n, ok := fd.decodeFrame(frame, shared); ok && n == len(frame) {
			return m, nil
		}
	}
	n, _, st, err := c.frameLen(frame, 0, readState{})
	switch {
	case err != nil:
		return nil, err
	case n == 0:
		return nil, &FrameError{Offset: 0, Msg: errEOFInFrame, Err: io.ErrUnexpectedEOF}
	case n < len(frame):
		return nil, &FrameError{Offset: int64(n), Msg: "bytes after the frame"}
	}
	return c.decode(frame, 0, shared, st)
}
