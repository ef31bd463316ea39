package imp

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/goimp/imprpc/perl"
)

// Result is one result of an analyzer: its type and its arguments as
// Perl holds them (the elements after the type in Net::IMP's
// [type, args...] arrays, and in the result RPC after the analyzer id and
// the type).
//
// The arguments are kept as Perl values so that a result read from a peer
// is written again with the same bytes: an offset sent as a decimal
// string stays a string, a UTF-8 message stays UTF-8, a pass_pattern
// regex stays a qr// or a string, extra key/value pairs and arguments of
// unknown result types are kept as they came. The constructors (Pass,
// Replace, Log, ...) build the usual shapes; the accessors (Dir, Offset,
// Data, ...) read them whatever shape they came in. Validate checks that
// the arguments fit the type.
//
// A Result is a small value: copy it freely, but treat Args and the
// values it holds (such as the data of a replace) as read-only once the
// result has been emitted or received.
type Result struct {
	// Type is the result type.
	Type ResultType
	// Args are the arguments in Net::IMP's order (see the protocol
	// description's table of result types).
	Args []perl.Value
}

// boxedMaxOffset is MaxOffset boxed once: Go allocates when it puts an
// integer outside 0..255 into an interface.
var boxedMaxOffset perl.Value = perl.Int(MaxOffset)

// intValue returns n as a perl.Value without allocating for 0..255 and -1.
func intValue(n int64) perl.Value {
	if n == MaxOffset {
		return boxedMaxOffset
	}
	return perl.Int(n)
}

// Pass returns pass(dir, offset): the data of dir up to offset (MaxOffset:
// all of it) can be forwarded, and the analyzer need not see it.
func Pass(dir Dir, offset int64) Result {
	return Result{Type: ResultPass, Args: []perl.Value{perl.Int(dir), intValue(offset)}}
}

// Prepass returns prepass(dir, offset): the data up to offset can be
// forwarded, but the analyzer still wants to see it.
func Prepass(dir Dir, offset int64) Result {
	return Result{Type: ResultPrepass, Args: []perl.Value{perl.Int(dir), intValue(offset)}}
}

// PassPattern returns pass_pattern(dir, regex, length): data can be
// forwarded up to the next match of regex (a value from QR, or a Perl
// string), which matches at most length bytes.
func PassPattern(dir Dir, regex perl.Value, length int64) Result {
	return Result{Type: ResultPassPattern, Args: []perl.Value{perl.Int(dir), regex, perl.Int(length)}}
}

// Replace returns replace(dir, offset, data): send data instead of the
// original data of dir up to offset. The result keeps data; do not change
// it afterwards.
func Replace(dir Dir, offset int64, data []byte) Result {
	return Result{Type: ResultReplace, Args: []perl.Value{perl.Int(dir), intValue(offset), perl.Bytes(data)}}
}

// ReplaceLater returns replace_later(dir, offset, end): a promise to
// replace the data of dir from offset to end later.
func ReplaceLater(dir Dir, offset, end int64) Result {
	return Result{Type: ResultReplaceLater, Args: []perl.Value{perl.Int(dir), intValue(offset), intValue(end)}}
}

// ToSender returns tosender(dir, data): send data back to the sender of
// dir. The result keeps data; do not change it afterwards.
func ToSender(dir Dir, data []byte) Result {
	return Result{Type: ResultToSender, Args: []perl.Value{perl.Int(dir), perl.Bytes(data)}}
}

// Deny returns deny(dir, reason, extra...): close the connection visibly.
// extra are key/value pairs for the data provider (an even number of
// values). reason is held as perl.Str holds Go text.
func Deny(dir Dir, reason string, extra ...perl.Value) Result {
	args := make([]perl.Value, 0, 2+len(extra))
	args = append(args, perl.Int(dir), perl.Str(reason))
	return Result{Type: ResultDeny, Args: append(args, extra...)}
}

// Drop returns drop(): close the connection silently.
func Drop() Result { return Result{Type: ResultDrop} }

// Fatal returns fatal(reason): the analyzer cannot go on.
func Fatal(reason string) Result {
	return Result{Type: ResultFatal, Args: []perl.Value{perl.Str(reason)}}
}

// Log returns log(dir, offset, length, level, msg, extra...): a message
// about length bytes of dir at offset. extra are key/value pairs (an even
// number of values).
func Log(dir Dir, offset, length int64, level LogLevel, msg string, extra ...perl.Value) Result {
	args := make([]perl.Value, 0, 5+len(extra))
	args = append(args, perl.Int(dir), intValue(offset), perl.Int(length), perl.Int(level), perl.Str(msg))
	return Result{Type: ResultLog, Args: append(args, extra...)}
}

// PortOpen returns port_open(dir, offset, extra...): the protocol opened a
// dynamic port (the extra arguments describe it; Net::IMP leaves them
// open).
func PortOpen(dir Dir, offset int64, extra ...perl.Value) Result {
	return portResult(ResultPortOpen, dir, offset, extra)
}

// PortClose returns port_close(dir, offset, extra...), the counterpart of
// PortOpen.
func PortClose(dir Dir, offset int64, extra ...perl.Value) Result {
	return portResult(ResultPortClose, dir, offset, extra)
}

func portResult(t ResultType, dir Dir, offset int64, extra []perl.Value) Result {
	args := make([]perl.Value, 0, 2+len(extra))
	args = append(args, perl.Int(dir), intValue(offset))
	return Result{Type: t, Args: append(args, extra...)}
}

// AcctField returns acctfield(key, value): a field for accounting. value
// may be any scalar.
func AcctField(key string, value perl.Value) Result {
	return Result{Type: ResultAcctField, Args: []perl.Value{perl.Str(key), value}}
}

// Pause returns pause(dir): a hint to stop sending data of dir for now.
// Net::IMP::Cascade sends pause without a direction:
// Result{Type: ResultPause}.
func Pause(dir Dir) Result {
	return Result{Type: ResultPause, Args: []perl.Value{perl.Int(dir)}}
}

// Continue returns continue(dir), which ends a Pause.
func Continue(dir Dir) Result {
	return Result{Type: ResultContinue, Args: []perl.Value{perl.Int(dir)}}
}

// argKind is what an argument of a result must be.
type argKind uint8

const (
	argDir     argKind = iota + 1 // 0 or 1
	argOffset                     // integer >= -1
	argEnd                        // integer >= -1 (replace_later's end)
	argLen                        // integer >= 0
	argLevel                      // known log level
	argText                       // defined scalar (msg, reason, key)
	argData                       // string
	argPattern                    // qr// or string
	argScalar                     // any non-reference scalar
)

// restKind is what may follow the fixed arguments.
type restKind uint8

const (
	restNone  restKind = iota
	restPairs          // key/value pairs: text keys, scalar values
	restAny            // anything
)

// layout describes the arguments of a known result type.
type layout struct {
	names    []string  // names of the fixed arguments
	kinds    []argKind // their kinds
	optional int       // how many trailing fixed arguments may be missing
	rest     restKind
}

var (
	layoutLog     = layout{names: []string{"dir", "offset", "len", "level", "msg"}, kinds: []argKind{argDir, argOffset, argLen, argLevel, argText}, rest: restPairs}
	layoutPort    = layout{names: []string{"dir", "offset"}, kinds: []argKind{argDir, argOffset}, rest: restAny}
	layoutAcct    = layout{names: []string{"key", "value"}, kinds: []argKind{argText, argScalar}}
	layoutFlow    = layout{names: []string{"dir"}, kinds: []argKind{argDir}, optional: 1}
	layoutRLater  = layout{names: []string{"dir", "offset", "endoffset"}, kinds: []argKind{argDir, argOffset, argEnd}}
	layoutPass    = layout{names: []string{"dir", "offset"}, kinds: []argKind{argDir, argOffset}}
	layoutPattern = layout{names: []string{"dir", "regex", "len"}, kinds: []argKind{argDir, argPattern, argLen}}
	layoutSender  = layout{names: []string{"dir", "data"}, kinds: []argKind{argDir, argData}}
	layoutReplace = layout{names: []string{"dir", "offset", "newdata"}, kinds: []argKind{argDir, argOffset, argData}}
	layoutDeny    = layout{names: []string{"dir", "reason"}, kinds: []argKind{argDir, argText}, optional: 1, rest: restPairs}
	layoutDrop    = layout{}
	layoutFatal   = layout{names: []string{"reason"}, kinds: []argKind{argText}}
)

func layoutOf(t ResultType) *layout {
	switch t {
	case ResultLog:
		return &layoutLog
	case ResultPortOpen, ResultPortClose:
		return &layoutPort
	case ResultAcctField:
		return &layoutAcct
	case ResultPause, ResultContinue:
		return &layoutFlow
	case ResultReplaceLater:
		return &layoutRLater
	case ResultPass, ResultPrepass:
		return &layoutPass
	case ResultPassPattern:
		return &layoutPattern
	case ResultToSender:
		return &layoutSender
	case ResultReplace:
		return &layoutReplace
	case ResultDeny:
		return &layoutDeny
	case ResultDrop:
		return &layoutDrop
	case ResultFatal:
		return &layoutFatal
	}
	return nil
}

// arg returns the argument of kind k, if r's type has one and r holds it.
func (r Result) arg(k argKind) (perl.Value, bool) {
	l := layoutOf(r.Type)
	if l == nil {
		return nil, false
	}
	for i, have := range l.kinds {
		if have == k {
			if i < len(r.Args) {
				return r.Args[i], true
			}
			break
		}
	}
	return nil, false
}

func (r Result) intArg(k argKind) (int64, bool) {
	if v, ok := r.arg(k); ok {
		return ToInt(v)
	}
	return 0, false
}

// Dir returns the direction of a result that has one (every type except
// acctfield, drop and fatal; pause and continue may come without) and
// whether it is there and valid.
func (r Result) Dir() (Dir, bool) {
	n, ok := r.intArg(argDir)
	if !ok || !Dir(n).Valid() {
		return 0, false
	}
	return Dir(n), true
}

// Offset returns the offset of pass, prepass, replace, replace_later, log,
// port_open and port_close, as an integer (MaxOffset for -1).
func (r Result) Offset() (int64, bool) { return r.intArg(argOffset) }

// EndOffset returns the end offset of replace_later.
func (r Result) EndOffset() (int64, bool) { return r.intArg(argEnd) }

// Len returns the length of log and the maximum match length of
// pass_pattern.
func (r Result) Len() (int64, bool) { return r.intArg(argLen) }

// Level returns the level of log.
func (r Result) Level() (LogLevel, bool) {
	n, ok := r.intArg(argLevel)
	return LogLevel(n), ok
}

// Message returns the text of log's message, deny's reason and fatal's
// reason (see ToText for how Perl strings become Go text).
func (r Result) Message() (string, bool) {
	if v, ok := r.arg(argText); ok && r.Type != ResultAcctField {
		return ToText(v)
	}
	return "", false
}

// Data returns the data of replace and tosender as the bytes a Perl data
// provider sends: a byte string as it is (not copied), a UTF-8 string
// with only characters up to U+00FF as Latin-1 bytes (Perl downgrades it
// when writing), any other UTF-8 string as its UTF-8 encoding (which Perl
// would refuse to write as "wide characters").
func (r Result) Data() ([]byte, bool) {
	if v, ok := r.arg(argData); ok {
		return octets(v)
	}
	return nil, false
}

// Pattern returns the regex of pass_pattern: a reference to a
// *perl.Regexp (a qr//) or a string.
func (r Result) Pattern() (perl.Value, bool) { return r.arg(argPattern) }

// AcctField returns the key and the value of acctfield.
func (r Result) AcctField() (key string, value perl.Value, ok bool) {
	if r.Type != ResultAcctField || len(r.Args) < 2 {
		return "", nil, false
	}
	key, ok = ToText(r.Args[0])
	return key, r.Args[1], ok
}

// Extra returns the arguments after the fixed ones: the key/value pairs
// of log and deny, the protocol-specific arguments of port_open and
// port_close. The slice shares Args.
func (r Result) Extra() []perl.Value {
	l := layoutOf(r.Type)
	if l == nil || l.rest == restNone || len(r.Args) <= len(l.kinds) {
		return nil
	}
	return r.Args[len(l.kinds):]
}

// ResultError reports a Result whose arguments do not fit its type.
type ResultError struct {
	// Type is the result's type.
	Type ResultType
	// Arg is the index in Args of the argument at fault, or -1 when the
	// number of arguments is wrong or the type is unknown.
	Arg int
	// Name names the argument ("offset"), "" for Arg -1.
	Name string
	// Msg says what is wrong.
	Msg string
}

// Error names the result type, the argument and the problem.
func (e *ResultError) Error() string {
	if e.Arg < 0 {
		return fmt.Sprintf("imp: result %s: %s", e.Type, e.Msg)
	}
	return fmt.Sprintf("imp: result %s: arg %d (%s): %s", e.Type, e.Arg, e.Name, e.Msg)
}

// Validate reports whether r is a result a Perl peer understands: a result
// type Net::IMP defines, with the number of arguments its type takes
// (optional ones may be missing: the direction of pause and continue, the
// reason of deny), directions 0 or 1, integer offsets of -1 or more
// (given as integers or decimal strings), a known log level, text for
// messages and keys, strings for data, a qr// or a string for
// pass_pattern's regex, and scalars (not references) as values of the
// key/value pairs and of acctfield. It returns a *ResultError.
func (r Result) Validate() error {
	l := layoutOf(r.Type)
	if l == nil {
		return &ResultError{Type: r.Type, Arg: -1, Msg: "unknown result type"}
	}
	n, fixed := len(r.Args), len(l.kinds)
	switch {
	case n < fixed-l.optional || (n > fixed && l.rest == restNone):
		return r.countError(l)
	case n > fixed && l.rest == restPairs && (n-fixed)%2 != 0:
		return &ResultError{Type: r.Type, Arg: -1, Msg: fmt.Sprintf("%d extra args, want key/value pairs", n-fixed)}
	}
	for i, v := range r.Args {
		var msg string
		name := ""
		if i < fixed {
			name = l.names[i]
			msg = checkArg(l.kinds[i], v)
		} else if l.rest == restPairs {
			if (i-fixed)%2 == 0 {
				name, msg = "key", checkArg(argText, v)
			} else {
				name, msg = "value", checkArg(argScalar, v)
			}
		}
		if msg != "" {
			return &ResultError{Type: r.Type, Arg: i, Name: name, Msg: msg}
		}
	}
	return nil
}

func (r Result) countError(l *layout) error {
	want := strconv.Itoa(len(l.kinds))
	if l.optional > 0 {
		want = fmt.Sprintf("%d to %d", len(l.kinds)-l.optional, len(l.kinds))
	}
	if l.rest != restNone {
		want += " or more"
	}
	return &ResultError{Type: r.Type, Arg: -1, Msg: fmt.Sprintf("want %s args, got %d", want, len(r.Args))}
}

// checkArg returns what is wrong with v as an argument of kind k, or "".
func checkArg(k argKind, v perl.Value) string {
	switch k {
	case argDir, argOffset, argEnd, argLen, argLevel:
		n, ok := ToInt(v)
		switch {
		case !ok:
			return "not an integer: " + describe(v)
		case k == argDir && !Dir(n).Valid():
			return fmt.Sprintf("direction %d is not 0 or 1", n)
		case (k == argOffset || k == argEnd) && n < MaxOffset:
			return fmt.Sprintf("offset %d is below -1", n)
		case k == argLen && n < 0:
			return fmt.Sprintf("length %d is negative", n)
		case k == argLevel && !LogLevel(n).Known():
			return fmt.Sprintf("unknown log level %d", n)
		}
	case argText:
		if !isText(v) {
			return "not text: " + describe(v)
		}
	case argData:
		if _, ok := octets(v); !ok {
			return "not a string: " + describe(v)
		}
	case argPattern:
		if ref, ok := v.(perl.Ref); ok {
			if _, ok := ref.To.(*perl.Regexp); ok {
				return ""
			}
		}
		if _, ok := octets(v); !ok {
			return "not a qr// or a string: " + describe(v)
		}
	case argScalar:
		if !isScalar(v) {
			return "not a scalar: " + describe(v)
		}
	}
	return ""
}

// describe names the kind of a Perl value for messages.
func describe(v perl.Value) string {
	if v == nil {
		return "nil"
	}
	if ref, ok := v.(perl.Ref); ok && ref.To != nil {
		return "reference to " + ref.To.Kind().String()
	}
	return v.Kind().String()
}

// String formats r for logs and debugging, in the form
// pass(0, 1000), log(0, 0, 10, info, "msg"), deny(1, "reason", "k", "v").
// Long strings are shortened.
func (r Result) String() string {
	var b strings.Builder
	b.WriteString(r.Type.String())
	b.WriteByte('(')
	for i, v := range r.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		if r.Type == ResultLog && i == 3 {
			if n, ok := ToInt(v); ok {
				b.WriteString(LogLevel(n).String())
				continue
			}
		}
		formatValue(&b, v)
	}
	b.WriteByte(')')
	return b.String()
}

// maxShown is how much of a string String shows.
const maxShown = 64

func formatValue(b *strings.Builder, v perl.Value) {
	switch x := v.(type) {
	case nil:
		b.WriteString("nil")
	case perl.Undef:
		b.WriteString("undef")
	case perl.Int, perl.Uint, perl.Float:
		s, _ := ToText(x)
		b.WriteString(s)
	case perl.Bool:
		b.WriteString(strconv.FormatBool(bool(x)))
	case perl.Bytes, perl.String, perl.VString:
		s, _ := ToText(x)
		if len(s) > maxShown {
			fmt.Fprintf(b, "%q...(%d bytes)", s[:maxShown], len(s))
			return
		}
		b.WriteString(strconv.Quote(s))
	case perl.Ref:
		if rx, ok := x.To.(*perl.Regexp); ok {
			fmt.Fprintf(b, "qr/%s/%s", rx.Pattern, rx.Flags)
			return
		}
		b.WriteString("<" + describe(x) + ">")
	case *perl.Scalar:
		if x != nil {
			formatValue(b, x.Value)
			return
		}
		b.WriteString("nil")
	default:
		b.WriteString("<" + describe(v) + ">")
	}
}
