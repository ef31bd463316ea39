package perl

import (
	"reflect"

	"github.com/goimp/imprpc/perl/internal/vpath"
)

// TypeError reports a Perl value that does not fit the Go type ToGo
// stores it in: the wrong kind, or a number out of the Go type's range.
type TypeError struct {
	// GoType is the Go type that was to receive the value.
	GoType reflect.Type
	// Kind is the kind of the Perl value.
	Kind Kind
	// Path is where the value is: $ for the root, [i] for an array
	// element, .key for a hash value.
	Path string
	// Msg says what is wrong, such as "cannot store bytes \"x\"" or
	// "int 300 overflows".
	Msg string

	path vpath.Path
}

// Error implements error.
func (e *TypeError) Error() string {
	return "perl: " + e.Path + ": " + e.Msg + " in Go " + e.GoType.String()
}

// UnsupportedTypeError reports a Go value that FromGo cannot show as a
// Perl value (a channel, a function, a complex number, a map whose keys are
// not strings or integers), or one nested too deeply.
type UnsupportedTypeError struct {
	// GoType is the Go type of the value.
	GoType reflect.Type
	// Path is where the value is, as in TypeError.
	Path string
	// Msg says why, when there is more to say than the type.
	Msg string

	path vpath.Path
}

// Error implements error.
func (e *UnsupportedTypeError) Error() string {
	msg := "perl: " + e.Path + ": unsupported Go type " + e.GoType.String()
	if e.Msg != "" {
		msg += ": " + e.Msg
	}
	return msg
}

// MarshalerError wraps an error that a Marshaler's MarshalPerl or an
// Unmarshaler's UnmarshalPerl (or a TextMarshaler or TextUnmarshaler)
// returned.
type MarshalerError struct {
	// GoType is the type whose method failed.
	GoType reflect.Type
	// Path is where the value is, as in TypeError.
	Path string
	// Err is the method's error.
	Err error

	path vpath.Path
}

// Error implements error.
func (e *MarshalerError) Error() string {
	return "perl: " + e.Path + ": " + e.GoType.String() + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *MarshalerError) Unwrap() error { return e.Err }

// pathError is implemented by the errors that collect a path while they
// travel up a walk.
type pathError interface {
	error
	vpath() *vpath.Path
	finish()
}

func (e *TypeError) vpath() *vpath.Path            { return &e.path }
func (e *UnsupportedTypeError) vpath() *vpath.Path { return &e.path }
func (e *MarshalerError) vpath() *vpath.Path       { return &e.path }
func (e *TypeError) finish()                       { e.Path = e.path.String() }
func (e *UnsupportedTypeError) finish()            { e.Path = e.path.String() }
func (e *MarshalerError) finish()                  { e.Path = e.path.String() }

// atIndex adds an array index to the path of err.
func atIndex(err error, i int) error {
	if pe, ok := err.(pathError); ok {
		pe.vpath().Index(i)
	}
	return err
}

// atKey adds a hash key to the path of err.
func atKey(err error, k string) error {
	if pe, ok := err.(pathError); ok {
		pe.vpath().Key(k)
	}
	return err
}

// finishPath fills in the Path field of err once it reached the top.
func finishPath(err error) error {
	if pe, ok := err.(pathError); ok {
		pe.finish()
	}
	return err
}
