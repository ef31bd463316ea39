package conn

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/perl/taggedjson"
)

// The JSON form of messages, one JSON array per RPC, as "imprpc frames"
// prints them:
//
//	["set_version",1]
//	["get_interface",["imp.data.stream",["pass","deny","fatal"]],[null]]
//	["set_interface",["imp.data.stream",[]]]
//	["new_analyzer",1,{"meta":{"caddr":"192.0.2.10","cport":40001}}]
//	["data",1234,0,0,"imp.data.stream","hello"]
//	["data",1,0,null,"imp.data.stream",""]        (undef offset)
//	["result",1234,"pass",0,12]
//	["result",7,"log",0,0,6,"info","msg"]
//	["exception",0,"set_interface: unsupported interface"]
//	[18841,1,"x"]                                  (unknown op)
//
// The op, data types, result types and log levels are the strings of
// Perl's dualvars, or integers where Perl has no name for them; analyzer
// ids, directions, offsets, lengths and versions are JSON numbers (also
// where the Storable wire carried them as decimal strings); an interface
// is shown as the wire holds it ([dtype] for a missing result list in
// get_interface and interface, [dtype,[]] in set_interface); every other
// value is tagged JSON (the project's spec/tagged-json.md). Tagged JSON
// does not show whether a string holding only characters up to U+00FF was
// a character (UTF-8) string: ParseJSON reads such strings as byte
// strings.

// AppendJSON appends the JSON form of m to dst (without a newline).
func AppendJSON(dst []byte, m Message) ([]byte, error) {
	dst = append(dst, '[')
	dst = appendOpJSON(dst, m.Op())
	var err error
	switch m := m.(type) {
	case *GetInterface:
		dst = appendInterfacesJSON(dst, m.Interfaces)
	case *Interface:
		dst = appendInterfacesJSON(dst, m.Interfaces)
	case *SetInterface:
		dst = appendInterfaceJSON(append(dst, ','), m.Interface, true)
	case *NewAnalyzer:
		dst = strconv.AppendInt(append(dst, ','), m.ID, 10)
		ctx := m.Context
		if ctx == nil {
			ctx = perl.HashRef(perl.NewHash(0))
		}
		dst, err = appendTagged(append(dst, ','), ctx)
	case *DeleteAnalyzer:
		dst = strconv.AppendInt(append(dst, ','), m.ID, 10)
	case *Data:
		dst = strconv.AppendInt(append(dst, ','), m.ID, 10)
		dst = strconv.AppendInt(append(dst, ','), int64(m.Dir), 10)
		dst = append(dst, ',')
		if m.UndefOffset && m.Offset == 0 {
			dst = append(dst, "null"...)
		} else {
			dst = strconv.AppendInt(dst, m.Offset, 10)
		}
		dst = appendDataTypeJSON(append(dst, ','), m.Type)
		dst, err = appendTagged(append(dst, ','), dataValue(m.Data, m.UTF8))
	case *SetVersion:
		dst = strconv.AppendInt(append(dst, ','), m.Version, 10)
	case *Exception:
		if !m.NoID {
			dst = strconv.AppendInt(append(dst, ','), m.ID, 10)
		}
		msg := m.Message
		if msg == nil {
			msg = perl.Bytes{}
		}
		dst, err = appendTagged(append(dst, ','), msg)
	case *Result:
		dst = strconv.AppendInt(append(dst, ','), m.ID, 10)
		dst, err = appendResultArgsJSON(append(dst, ','), m.Result)
	case *Raw:
		for _, v := range m.Args {
			if dst, err = appendTagged(append(dst, ','), v); err != nil {
				break
			}
		}
	}
	if err != nil {
		return dst, err
	}
	return append(dst, ']'), nil
}

// AppendResultJSON appends the JSON form of a result without op and
// analyzer id: ["pass",0,12], ["log",0,0,6,"info","msg"].
func AppendResultJSON(dst []byte, r imp.Result) ([]byte, error) {
	dst, err := appendResultArgsJSON(append(dst, '['), r)
	if err != nil {
		return dst, err
	}
	return append(dst, ']'), nil
}

func appendOpJSON(dst []byte, op Op) []byte {
	if op.Known() {
		return strconv.AppendQuote(dst, op.String())
	}
	return strconv.AppendInt(dst, int64(op), 10)
}

func appendInterfacesJSON(dst []byte, ifs []imp.Interface) []byte {
	for _, f := range ifs {
		dst = appendInterfaceJSON(append(dst, ','), f, false)
	}
	return dst
}

func appendInterfaceJSON(dst []byte, f imp.Interface, set bool) []byte {
	dst = append(dst, '[')
	if f.AnyData {
		dst = append(dst, "null"...)
	} else {
		dst = appendDataTypeJSON(dst, f.DataType)
	}
	if f.Results != nil || set {
		dst = append(dst, ",["...)
		for i, t := range f.Results {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendResultTypeJSON(dst, t)
		}
		dst = append(dst, ']')
	}
	return append(dst, ']')
}

// appendNamed appends name as a JSON string, or n when name is only the
// decimal form of n (a constant Perl has no name for).
func appendNamed(dst []byte, name string, n int64) []byte {
	if name == strconv.FormatInt(n, 10) {
		return strconv.AppendInt(dst, n, 10)
	}
	return strconv.AppendQuote(dst, name)
}

func appendDataTypeJSON(dst []byte, t imp.DataType) []byte {
	return appendNamed(dst, t.String(), int64(t))
}

func appendResultTypeJSON(dst []byte, t imp.ResultType) []byte {
	return appendNamed(dst, t.String(), int64(t))
}

func appendTagged(dst []byte, v perl.Value) ([]byte, error) {
	j, err := taggedjson.Marshal(v)
	if err != nil {
		return dst, fmt.Errorf("conn: %w", err)
	}
	return append(dst, j...), nil
}

// resultNumbers says which arguments of each known result type are
// numbers (directions, offsets, lengths), shown as JSON numbers.
func resultNumbers(t imp.ResultType) (nums []bool, level int) {
	level = -1
	switch t {
	case imp.ResultLog:
		return []bool{true, true, true}, 3
	case imp.ResultPortOpen, imp.ResultPortClose, imp.ResultPass, imp.ResultPrepass, imp.ResultReplace:
		return []bool{true, true}, level
	case imp.ResultReplaceLater:
		return []bool{true, true, true}, level
	case imp.ResultPause, imp.ResultContinue, imp.ResultToSender, imp.ResultDeny:
		return []bool{true}, level
	case imp.ResultPassPattern:
		return []bool{true, false, true}, level
	}
	return nil, level
}

func appendResultArgsJSON(dst []byte, r imp.Result) ([]byte, error) {
	dst = appendResultTypeJSON(dst, r.Type)
	nums, level := resultNumbers(r.Type)
	var err error
	for i, v := range r.Args {
		dst = append(dst, ',')
		if n, ok := imp.ToInt(v); ok && (i < len(nums) && nums[i] || i == level) {
			if i == level {
				dst = appendNamed(dst, imp.LogLevel(n).String(), n)
			} else {
				dst = strconv.AppendInt(dst, n, 10)
			}
			continue
		}
		if dst, err = appendTagged(dst, v); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// ParseJSON reads the JSON form of a message (see AppendJSON): names of
// ops, data types, result types and log levels, or integers, in their
// places, and tagged JSON for the other values. An op the protocol does
// not define gives a *Raw message.
func ParseJSON(line []byte) (Message, error) {
	v, err := taggedjson.Unmarshal(line)
	if err != nil {
		return nil, fmt.Errorf("conn: %w", err)
	}
	a, ok := v.(*perl.Array)
	if !ok || len(a.Elems) == 0 {
		return nil, fmt.Errorf("conn: JSON form of a message: want an array [op, args...], got %s", describe(v))
	}
	op, err := parseNameArg(a.Elems[0], "op", ParseOp)
	if err != nil {
		return nil, err
	}
	args := a.Elems[1:]
	switch op {
	case OpGetInterface, OpInterface, OpSetInterface:
		for i, f := range args {
			if args[i], err = parseInterfaceJSON(f); err != nil {
				return nil, err
			}
		}
	case OpData:
		if len(args) == 5 {
			if args[3], err = nameToInt(args[3], "data type", imp.ParseDataType); err != nil {
				return nil, err
			}
		}
	case OpResult:
		if len(args) >= 2 {
			t, err := parseNameArg(args[1], "result type", imp.ParseResultType)
			if err != nil {
				return nil, err
			}
			args[1] = perl.Int(t)
			if t == imp.ResultLog && len(args) > 5 {
				if args[5], err = nameToInt(args[5], "log level", imp.ParseLogLevel); err != nil {
					return nil, err
				}
			}
		}
	}
	m, err := ParseMessage(op, args)
	var ue *UnknownOpError
	if errors.As(err, &ue) {
		return ue.Message(), nil
	}
	return m, err
}

// parseNameArg reads a constant given by its name or as an integer.
func parseNameArg[T ~int | ~int64](v perl.Value, what string, parse func(string) (T, error)) (T, error) {
	switch x := v.(type) {
	case perl.Bytes:
		return parse(string(x))
	case perl.String:
		return parse(string(x))
	}
	if n, ok := imp.ToInt(v); ok {
		return T(n), nil
	}
	return 0, fmt.Errorf("conn: JSON form of a message: %s is neither a name nor an integer: %s", what, describe(v))
}

func nameToInt[T ~int | ~int64](v perl.Value, what string, parse func(string) (T, error)) (perl.Value, error) {
	n, err := parseNameArg(v, what, parse)
	return perl.Int(n), err
}

func parseInterfaceJSON(v perl.Value) (perl.Value, error) {
	a := arrayOf(v)
	if a == nil || len(a.Elems) == 0 {
		return v, nil // ParseMessage reports it
	}
	elems := make([]perl.Value, len(a.Elems))
	copy(elems, a.Elems)
	var err error
	if !isUndef(elems[0]) {
		if elems[0], err = nameToInt(elems[0], "data type", imp.ParseDataType); err != nil {
			return nil, err
		}
	}
	if len(elems) > 1 {
		if rl := arrayOf(elems[1]); rl != nil {
			rts := make([]perl.Value, len(rl.Elems))
			for i, t := range rl.Elems {
				if rts[i], err = nameToInt(t, "result type", imp.ParseResultType); err != nil {
					return nil, err
				}
			}
			elems[1] = perl.ArrayRef(rts...)
		}
	}
	return perl.ArrayRef(elems...), nil
}
