package client

import (
	"errors"
	"fmt"

	"github.com/goimp/imprpc/imp"
)

// Why an analyzer ended, and errors of the factory's calls. An ended
// analyzer's Err returns one of these sentinels or one of the error
// types below; errors.Is and errors.As tell them apart.
var (
	// ErrFinished: the analysis is complete. Both directions were
	// passed to their end (pass with offset -1, or pass or replace up to
	// the end of data sent for the direction), or the analyzer gave
	// deny, drop or fatal. The client deletes the analyzer on the
	// server.
	ErrFinished = errors.New("client: analyzer finished")
	// ErrDeclined: the plugin declined the analyzer: its first two
	// results were pass(0, -1) and pass(1, -1), which is how a server
	// answers for a plugin that declines (and what a plugin that passes
	// everything at once gives). The data passes uninspected.
	ErrDeclined = errors.New("client: analyzer declined")
	// ErrClosed: the analyzer's or the factory's Close was called.
	ErrClosed = errors.New("client: closed")
	// ErrConnectionLost is matched by a *ConnectionLostError.
	ErrConnectionLost = errors.New("client: connection to the IMP server lost")
	// ErrFull is returned by Data when a limit is reached and
	// Options.WhenFull is WhenFullFail; nothing was sent.
	ErrFull = errors.New("client: send queue or result buffer full")
)

// ExceptionError is an exception(id, message) from the server. With ID 0
// it concerns the whole connection, which the client then closes (as
// Perl's does): every analyzer on it ends with this error, and the next
// call connects again. With another ID it ends that analyzer, which the
// client deletes on the server.
type ExceptionError struct {
	// ID is the analyzer's id, 0 for the connection.
	ID int64
	// Message is the server's message, as text.
	Message string
}

// Error returns "client: exception for analyzer ID: message", or
// "client: global exception: message" for ID 0 (the words of Perl's
// client).
func (e *ExceptionError) Error() string {
	if e.ID == 0 {
		return "client: global exception: " + e.Message
	}
	return fmt.Sprintf("client: exception for analyzer %d: %s", e.ID, e.Message)
}

// ConnectionLostError ends the analyzers of a connection that broke
// (Perl's client leaves them waiting forever, see docs/conformance.md).
// It matches ErrConnectionLost.
type ConnectionLostError struct {
	// Cause is why the connection ended: conn.ErrPeerClosed when the
	// server closed it, a network or framing error, or an error of the
	// server's messages.
	Cause error
}

// Error returns "client: connection to the IMP server lost: " and the
// cause.
func (e *ConnectionLostError) Error() string {
	if e.Cause == nil {
		return ErrConnectionLost.Error()
	}
	return ErrConnectionLost.Error() + ": " + e.Cause.Error()
}

// Is reports whether target is ErrConnectionLost.
func (e *ConnectionLostError) Is(target error) bool { return target == ErrConnectionLost }

// Unwrap returns the cause.
func (e *ConnectionLostError) Unwrap() error { return e.Cause }

// DialError reports that the server could not be reached. It is the end
// reason of the analyzers made meanwhile, which get the results of
// Options.Fail with Text in their message, as Perl's do.
type DialError struct {
	// Addr is the server's address as given to Dial.
	Addr string
	// Text is the C library's text for the error (strerror), as Perl's
	// $! shows it: "Connection refused", "No such file or directory".
	Text string
	// Err is the error of the attempt (a *net.OpError, ...).
	Err error
}

// Error returns "client: connect to IMP server ADDR failed (TEXT)".
func (e *DialError) Error() string {
	return fmt.Sprintf("client: connect to IMP server %s failed (%s)", e.Addr, e.Text)
}

// Unwrap returns the error of the attempt.
func (e *DialError) Unwrap() error { return e.Err }

// perlMessage returns the message of Perl's failure results:
// "connect to IMP server failed (TEXT)".
func (e *DialError) perlMessage() string {
	return "connect to IMP server failed (" + e.Text + ")"
}

// OverflowError ends an analyzer whose undelivered results reached
// Options.MaxPendingResults: the caller did not read its Results channel
// while the server kept sending.
type OverflowError struct {
	// ID is the analyzer's id.
	ID int64
	// Limit is Options.MaxPendingResults.
	Limit int
}

// Error names the analyzer and the limit.
func (e *OverflowError) Error() string {
	return fmt.Sprintf("client: analyzer %d: %d results not received (MaxPendingResults)", e.ID, e.Limit)
}

// ArgError reports an argument of Data that cannot be sent: a direction
// other than 0 or 1, a negative offset, data larger than a frame may be.
type ArgError struct {
	// Arg names the argument: "dir", "offset", "data".
	Arg string
	// Msg says what is wrong.
	Msg string
}

// Error returns "client: data: ARG: MSG".
func (e *ArgError) Error() string { return "client: data: " + e.Arg + ": " + e.Msg }

// DataTypeError reports a data type Data refuses: neither stream nor
// packet, not defined with imp.DefineDataTypes, and not in
// Options.DataTypes. A Perl server would drop the data silently.
type DataTypeError struct {
	// Type is the data type refused.
	Type imp.DataType
}

// Error names the type and how to allow it.
func (e *DataTypeError) Error() string {
	return fmt.Sprintf("client: data type %d is not known (define it with imp.DefineDataTypes or list it in Options.DataTypes)", int64(e.Type))
}

// OptionError reports an invalid option or address.
type OptionError struct {
	// Option names the field, or "addr".
	Option string
	// Msg says what is wrong.
	Msg string
}

// Error returns "client: OPTION: MSG".
func (e *OptionError) Error() string { return "client: " + e.Option + ": " + e.Msg }
