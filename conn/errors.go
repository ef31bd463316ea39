package conn

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/goimp/imprpc/perl"
)

// Errors of reading frames. A Reader returns the fatal ones (*FrameError,
// *LimitError) again on every later call: the stream cannot be framed past
// them. After the others (*PayloadError, *UnknownOpError, *ArgError) the
// frame has been consumed whole and the next call reads the next frame;
// Recoverable tells them apart.

// FrameError reports a stream that cannot be framed any further: it ends
// inside a frame ("eof inside operation", which also matches
// io.ErrUnexpectedEOF with errors.Is), or holds bytes that start no frame
// (a Sereal stream whose next bytes are not a Sereal document).
type FrameError struct {
	// Offset is the stream offset of the frame's first byte.
	Offset int64
	// Msg says what is wrong.
	Msg string
	// Err is the cause: io.ErrUnexpectedEOF, a codec error, or nil.
	Err error
}

// Error returns "conn: offset N: " and the message.
func (e *FrameError) Error() string {
	s := where(e.Offset, 0) + e.Msg
	if e.Err != nil && e.Err != io.ErrUnexpectedEOF {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *FrameError) Unwrap() error { return e.Err }

// where returns the start of an error message: "conn: offset N: op: ",
// leaving out a negative offset and a zero op.
func where(offset int64, op Op) string {
	s := "conn: "
	if offset >= 0 {
		s += "offset " + strconv.FormatInt(offset, 10) + ": "
	}
	if op != 0 {
		s += op.String() + ": "
	}
	return s
}

// errEOFInFrame is the message Perl's Net::IMP::Remote::Connection closes
// with when the peer closes inside a frame.
const errEOFInFrame = "eof inside operation"

// LimitError reports a frame longer than Options.MaxFrameSize, found from
// its header (Storable) or its first bytes (Sereal) before the frame is
// read or any memory is allocated for it; or, when encoding, a message
// whose frame would exceed it.
type LimitError struct {
	// Offset is the stream offset of the frame, -1 when encoding.
	Offset int64
	// Op is the frame's op, if known (else 0).
	Op Op
	// Limit names the option: "MaxFrameSize".
	Limit string
	// Max is the limit.
	Max int64
	// Got is the frame's size, or a lower bound of it.
	Got int64
}

// Error names the limit and the sizes.
func (e *LimitError) Error() string {
	return fmt.Sprintf("%sframe of %d bytes exceeds %s (%d)", where(e.Offset, e.Op), e.Got, e.Limit, e.Max)
}

// PayloadError reports a frame that was read whole but whose payload is
// not what the wire carries: not a Storable image or Sereal document, or
// not an array of arguments.
type PayloadError struct {
	// Offset is the stream offset of the frame.
	Offset int64
	// Op is the frame's op, when the frame header gives it (Storable).
	Op Op
	// Msg says what is wrong.
	Msg string
	// Err is the codec's error (*storable.SyntaxError, ...), or nil.
	Err error
}

// Error returns "conn: offset N: op: " and the message.
func (e *PayloadError) Error() string {
	s := where(e.Offset, e.Op) + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the codec's error.
func (e *PayloadError) Unwrap() error { return e.Err }

// UnknownOpError reports a frame with an op the protocol does not define.
// Perl's peers close the connection on such a frame. Args holds its
// decoded arguments (nil if they could not be decoded).
type UnknownOpError struct {
	// Offset is the stream offset of the frame, -1 for none.
	Offset int64
	// Op is the unknown op.
	Op Op
	// Args are the frame's arguments.
	Args []perl.Value
}

// Error names the op and where it was.
func (e *UnknownOpError) Error() string {
	return fmt.Sprintf("%sunknown op %d (0x%x)", where(e.Offset, 0), int(e.Op), int(e.Op))
}

// Message returns the frame as a *Raw message.
func (e *UnknownOpError) Message() *Raw { return &Raw{Code: e.Op, Args: e.Args} }

// ArgError reports arguments that do not fit their op: a wrong number, or
// an argument of the wrong kind (an analyzer id that is no integer, data
// that is no string, ...). When encoding, Offset is -1.
type ArgError struct {
	// Offset is the stream offset of the frame, -1 when encoding.
	Offset int64
	// Op is the frame's op.
	Op Op
	// Arg is the index of the argument at fault (0 is the first after
	// the op), or -1 when the number of arguments is wrong.
	Arg int
	// Name names the argument ("offset"), "" for Arg -1.
	Name string
	// Msg says what is wrong.
	Msg string
}

// Error names the op, the argument and the problem.
func (e *ArgError) Error() string {
	s := where(e.Offset, e.Op)
	if e.Arg >= 0 {
		s += "arg " + strconv.Itoa(e.Arg)
		if e.Name != "" {
			s += " (" + e.Name + ")"
		}
		s += ": "
	}
	return s + e.Msg
}

// Recoverable reports whether err, returned by a Reader, leaves the
// stream framed: the bad frame was consumed whole and the next read
// starts at the next frame (*PayloadError, *UnknownOpError, *ArgError).
func Recoverable(err error) bool {
	var pe *PayloadError
	var ue *UnknownOpError
	var ae *ArgError
	return errors.As(err, &pe) || errors.As(err, &ue) || errors.As(err, &ae)
}

// VersionError reports a set_version with a version other than 1. The
// message is Perl's: "wrong version 2, can do 1 only".
type VersionError struct {
	// Offset is the stream offset of the frame.
	Offset int64
	// Version is the version the peer sent.
	Version int64
}

// Error returns Perl's message with the offset.
func (e *VersionError) Error() string {
	return fmt.Sprintf("%swrong version %d, can do %d only", where(e.Offset, 0), e.Version, Version)
}

// UnknownToPeerError reports a message that Conn.Send refused because it
// holds an op, result type or log level the protocol does not define and
// the peer has not sent first (a Perl peer closes the connection on an
// unknown op and reads unknown result types and log levels as undef).
type UnknownToPeerError struct {
	// What is "op", "result type" or "log level".
	What string
	// Code is the unknown value.
	Code int64
}

// Error names what was refused.
func (e *UnknownToPeerError) Error() string {
	return fmt.Sprintf("conn: %s %d is unknown to the peer; not sent", e.What, e.Code)
}
