package sereal

import (
	"errors"
	"io"
	"strconv"

	"github.com/goimp/imprpc/perl"
)

// noTag marks errors that are not about one tag.
const noTag = -1

// ErrIncomplete is returned by DocumentLength when the bytes given end
// before the first document does.
var ErrIncomplete = errors.New("sereal: incomplete document")

// A SyntaxError reports a document that is damaged: it ends too early, or
// holds bytes the format does not allow where they stand. A document cut
// short also matches io.ErrUnexpectedEOF with errors.Is.
type SyntaxError struct {
	// Offset is the position of the offending byte from the start of the
	// document (magic included). In a compressed document it is the
	// position the byte would have if the body were not compressed, and
	// Msg says so.
	Offset int64
	// Tag is the tag byte being decoded, or -1.
	Tag int
	// Msg says what is wrong.
	Msg string

	eof bool
}

func (e *SyntaxError) Error() string {
	return prefix(e.Offset, e.Tag) + e.Msg
}

// Unwrap returns io.ErrUnexpectedEOF for a document that ends too early.
func (e *SyntaxError) Unwrap() error {
	if e.eof {
		return io.ErrUnexpectedEOF
	}
	return nil
}

// A LimitError reports a document or value that exceeds one of the limits
// of DecOptions or EncOptions.
type LimitError struct {
	// Offset is the position in the document where the limit was
	// exceeded, or -1 when encoding.
	Offset int64
	// Limit is the name of the option field ("MaxDepth").
	Limit string
	// Max is the limit's value.
	Max int64
	// Got is the size that exceeded it, when known (else 0).
	Got int64
}

func (e *LimitError) Error() string {
	s := prefix(e.Offset, noTag) + "exceeds " + e.Limit + " (" + strconv.FormatInt(e.Max, 10) + ")"
	if e.Got > 0 {
		s += ": " + strconv.FormatInt(e.Got, 10)
	}
	return s
}

// An UnsupportedError reports something that may be valid Sereal but that
// this package does not decode: protocol versions 6 and 7, the tags
// FLOAT_128, LONG_DOUBLE and EXTEND, unknown document types.
type UnsupportedError struct {
	// Offset is the position of the tag or header byte.
	Offset int64
	// Tag is the tag byte, or -1.
	Tag int
	// Version is the document's protocol version.
	Version int
	// What names the unsupported feature.
	What string
	// Hint says what a Perl peer can do about it, or is empty.
	Hint string
}

func (e *UnsupportedError) Error() string {
	s := prefix(e.Offset, e.Tag) + e.What + " not supported"
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// An UnsupportedValueError reports a value the encoder cannot write, or
// that Perl's Sereal::Decoder would refuse: a nil Value, a Ref without a
// referent, a Storable hook object, a regexp modifier Perl cannot read
// back.
type UnsupportedValueError struct {
	// Value is the offending value.
	Value perl.Value
	// Msg says what is wrong with it.
	Msg string
}

func (e *UnsupportedValueError) Error() string {
	return "sereal: cannot encode " + e.Msg
}

func prefix(off int64, tag int) string {
	s := "sereal: "
	if off >= 0 {
		s += "offset " + strconv.FormatInt(off, 10) + ": "
	}
	if tag >= 0 {
		s += TagName(byte(tag)) + ": "
	}
	return s
}

// shiftOffset moves the offset of a decoding error by delta, for errors of
// a document found at that position of a stream.
func shiftOffset(err error, delta int64) error {
	var se *SyntaxError
	var le *LimitError
	var ue *UnsupportedError
	switch {
	case errors.As(err, &se):
		se.Offset += delta
	case errors.As(err, &le):
		if le.Offset >= 0 {
			le.Offset += delta
		}
	case errors.As(err, &ue):
		ue.Offset += delta
	}
	return err
}
