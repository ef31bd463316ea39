package storable

import (
	"io"
	"strconv"

	"github.com/goimp/imprpc/perl"
)

// noOp marks errors that are not about one opcode.
const noOp = -1

// A SyntaxError reports an image that is damaged: it ends too early, or
// holds bytes the format does not allow where they stand. An image cut
// short also matches io.ErrUnexpectedEOF with errors.Is.
type SyntaxError struct {
	// Offset is the position of the offending byte from the start of the
	// image (magic included).
	Offset int64
	// Op is the opcode being decoded, or -1.
	Op int
	// Msg says what is wrong.
	Msg string

	eof bool
}

func (e *SyntaxError) Error() string {
	return prefix(e.Offset, e.Op) + e.Msg
}

// Unwrap returns io.ErrUnexpectedEOF for an image that ends too early.
func (e *SyntaxError) Unwrap() error {
	if e.eof {
		return io.ErrUnexpectedEOF
	}
	return nil
}

// A LimitError reports an image or value that exceeds one of the limits of
// DecOptions or EncOptions.
type LimitError struct {
	// Offset is the position in the image where the limit was exceeded,
	// or -1 when encoding.
	Offset int64
	// Limit is the name of the option field ("MaxDepth").
	Limit string
	// Max is the limit's value.
	Max int64
	// Got is the size that exceeded it, when known (else 0).
	Got int64
}

func (e *LimitError) Error() string {
	if e.Got > 0 {
		return prefix(e.Offset, noOp) + "exceeds " + e.Limit + ": " +
			strconv.FormatInt(e.Got, 10) + " > " + strconv.FormatInt(e.Max, 10)
	}
	return prefix(e.Offset, noOp) + "exceeds " + e.Limit + " (" + strconv.FormatInt(e.Max, 10) + ")"
}

// An UnsupportedError reports something valid in Storable that this
// package does not decode: tied containers, code references, images of
// Storable before 0.7, unusual native formats.
type UnsupportedError struct {
	// Offset is the position of the opcode or header byte.
	Offset int64
	// Op is the opcode, or -1.
	Op int
	// What names the unsupported feature.
	What string
}

func (e *UnsupportedError) Error() string {
	return prefix(e.Offset, e.Op) + e.What + " not supported"
}

// An UnsupportedValueError reports a value the encoder cannot write: a nil
// Value, a Ref without a referent, a Hook whose Refs are not references, an
// overloaded reference to an unblessed value.
type UnsupportedValueError struct {
	// Value is the offending value.
	Value perl.Value
	// Msg says what is wrong with it.
	Msg string
}

func (e *UnsupportedValueError) Error() string {
	return "storable: cannot encode " + e.Msg
}

func prefix(off int64, op int) string {
	s := "storable: "
	if off >= 0 {
		s += "offset " + strconv.FormatInt(off, 10) + ": "
	}
	if op >= 0 {
		s += OpName(byte(op)) + ": "
	}
	return s
}
