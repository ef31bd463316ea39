package imp

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Dir is the direction of a data stream: the side that sent the data.
// Results name the direction of the data they are about.
type Dir int

// The two directions of an inspected connection.
const (
	// FromClient is data sent by the client (Net::IMP direction 0).
	FromClient Dir = 0
	// FromServer is data sent by the server (Net::IMP direction 1).
	FromServer Dir = 1
)

// Valid reports whether d is FromClient or FromServer.
func (d Dir) Valid() bool { return d == FromClient || d == FromServer }

// Other returns the opposite direction of a valid d.
func (d Dir) Other() Dir { return 1 - d }

// MaxOffset is Net::IMP's IMP_MAXOFFSET: an offset meaning "up to the end
// of this direction" in pass, prepass and replace_later.
const MaxOffset int64 = -1

// ResultType is the type of a Result, Net::IMP's IMP_* result constants.
// Its String method returns the string of Perl's dualvar ("pass"); a type
// Net::IMP does not define prints as its integer.
type ResultType int

// The result types of Net::IMP 0.636 with their Perl codes. The numeric
// order is Net::IMP's priority when results are combined.
const (
	ResultLog          ResultType = 0x0001 // log
	ResultPortOpen     ResultType = 0x0002 // port_open
	ResultPortClose    ResultType = 0x0003 // port_close
	ResultAcctField    ResultType = 0x0004 // acctfield
	ResultPause        ResultType = 0x0010 // pause
	ResultContinue     ResultType = 0x0011 // continue
	ResultReplaceLater ResultType = 0x0012 // replace_later
	ResultPass         ResultType = 0x1001 // pass
	ResultPassPattern  ResultType = 0x1002 // pass_pattern
	ResultPrepass      ResultType = 0x1003 // prepass
	ResultToSender     ResultType = 0x1010 // tosender
	ResultReplace      ResultType = 0x1011 // replace
	ResultDeny         ResultType = 0x1100 // deny
	ResultDrop         ResultType = 0x1101 // drop
	ResultFatal        ResultType = 0x1102 // fatal
)

// resultTypes lists the known result types in the order of the table in
// the protocol description.
var resultTypes = [...]ResultType{
	ResultLog, ResultPortOpen, ResultPortClose, ResultAcctField,
	ResultPause, ResultContinue, ResultReplaceLater,
	ResultPass, ResultPassPattern, ResultPrepass,
	ResultToSender, ResultReplace,
	ResultDeny, ResultDrop, ResultFatal,
}

func (t ResultType) name() string {
	switch t {
	case ResultLog:
		return "log"
	case ResultPortOpen:
		return "port_open"
	case ResultPortClose:
		return "port_close"
	case ResultAcctField:
		return "acctfield"
	case ResultPause:
		return "pause"
	case ResultContinue:
		return "continue"
	case ResultReplaceLater:
		return "replace_later"
	case ResultPass:
		return "pass"
	case ResultPassPattern:
		return "pass_pattern"
	case ResultPrepass:
		return "prepass"
	case ResultToSender:
		return "tosender"
	case ResultReplace:
		return "replace"
	case ResultDeny:
		return "deny"
	case ResultDrop:
		return "drop"
	case ResultFatal:
		return "fatal"
	}
	return ""
}

// String returns Perl's name of the result type ("pass", "replace_later"),
// or the decimal integer for a type Net::IMP does not define.
func (t ResultType) String() string {
	if n := t.name(); n != "" {
		return n
	}
	return strconv.Itoa(int(t))
}

// Known reports whether Net::IMP defines t. A Perl peer turns an unknown
// result type into undef.
func (t ResultType) Known() bool { return t.name() != "" }

// Final reports whether t ends the analysis of the whole connection:
// deny, drop and fatal.
func (t ResultType) Final() bool {
	return t == ResultDeny || t == ResultDrop || t == ResultFatal
}

// ResultTypes returns every result type Net::IMP defines, in the order of
// the protocol description's table.
func ResultTypes() []ResultType { return append([]ResultType(nil), resultTypes[:]...) }

// ParseResultType parses Perl's name of a result type ("pass") or a
// decimal integer ("4097", or any other integer, carried unchanged). It is
// the inverse of String.
func ParseResultType(s string) (ResultType, error) {
	return parseNamed(s, "result type", resultTypes[:])
}

// parseNamed returns the constant of known whose String is s, or the
// integer s spells.
func parseNamed[T interface {
	~int
	String() string
}](s, what string, known []T) (T, error) {
	for _, c := range known {
		if c.String() == s {
			return c, nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, strconv.IntSize); err == nil {
		return T(n), nil
	}
	return 0, &ParseError{What: what, Text: s}
}

// setParsed sets *p to what parse makes of b, for UnmarshalText.
func setParsed[T any](p *T, b []byte, parse func(string) (T, error)) error {
	v, err := parse(string(b))
	if err == nil {
		*p = v
	}
	return err
}

// MarshalText implements encoding.TextMarshaler with String.
func (t ResultType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseResultType.
func (t *ResultType) UnmarshalText(b []byte) error { return setParsed(t, b, ParseResultType) }

// LogLevel is the level of a log result, Net::IMP's IMP_LOG_* constants,
// modelled on syslog. String returns Perl's dualvar string.
type LogLevel int

// The log levels of Net::IMP.
const (
	LogDebug     LogLevel = 1 // debug
	LogInfo      LogLevel = 2 // info
	LogNotice    LogLevel = 3 // notice
	LogWarning   LogLevel = 4 // warning
	LogError     LogLevel = 5 // error (IMP_LOG_ERR)
	LogCritical  LogLevel = 6 // critical (IMP_LOG_CRIT)
	LogAlert     LogLevel = 7 // alert
	LogEmergency LogLevel = 8 // emergency (IMP_LOG_EMERG)
)

var logLevelNames = [...]string{
	LogDebug: "debug", LogInfo: "info", LogNotice: "notice", LogWarning: "warning",
	LogError: "error", LogCritical: "critical", LogAlert: "alert", LogEmergency: "emergency",
}

// Known reports whether Net::IMP defines l. A Perl peer turns an unknown
// log level into undef.
func (l LogLevel) Known() bool { return l >= LogDebug && l <= LogEmergency }

// String returns Perl's name of the level ("info"), or the decimal
// integer for a level Net::IMP does not define.
func (l LogLevel) String() string {
	if l.Known() {
		return logLevelNames[l]
	}
	return strconv.Itoa(int(l))
}

// ParseLogLevel parses Perl's name of a log level ("warning") or a decimal
// integer. It is the inverse of String.
func ParseLogLevel(s string) (LogLevel, error) {
	return parseNamed(s, "log level", []LogLevel{LogDebug, LogInfo, LogNotice, LogWarning, LogError, LogCritical, LogAlert, LogEmergency})
}

// MarshalText implements encoding.TextMarshaler with String.
func (l LogLevel) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseLogLevel.
func (l *LogLevel) UnmarshalText(b []byte) error { return setParsed(l, b, ParseLogLevel) }

// ParseError reports text that names no known constant and is no integer.
type ParseError struct {
	// What is being parsed: "result type", "log level", "data type".
	What string
	// Text is the input.
	Text string
}

// Error names what could not be parsed.
func (e *ParseError) Error() string {
	return fmt.Sprintf("imp: unknown %s %q", e.What, e.Text)
}

// DataType is the type of the data given to an analyzer, Net::IMP's
// IMP_DATA_* constants. Stream types are negative, packet types positive.
// Any integer is a valid DataType and is carried through unchanged; String
// names the types Net::IMP defines and those added with DefineDataTypes.
type DataType int64

// The two data types every IMP peer knows.
const (
	// DataStream is IMP_DATA_STREAM (-1), "imp.data.stream": chunks of a
	// byte stream that can be joined and analysed together.
	DataStream DataType = -1
	// DataPacket is IMP_DATA_PACKET (+1), "imp.data.packet": each chunk is
	// one packet, analysed on its own.
	DataPacket DataType = 1
)

// IsStream reports whether t is a stream type (negative), whose chunks
// can be joined, as Net::IMP treats every negative type.
func (t DataType) IsStream() bool { return t < 0 }

// IsPacket reports whether t is a packet type (positive).
func (t DataType) IsPacket() bool { return t > 0 }

// String returns Perl's name of the data type ("imp.data.stream",
// "imp.data.http.header" once defined), or the decimal integer for a type
// that is not defined.
func (t DataType) String() string {
	switch t {
	case DataStream:
		return "imp.data.stream"
	case DataPacket:
		return "imp.data.packet"
	}
	if n, ok := loadDataTypes().byNum[t]; ok {
		return dataTypePrefix + n
	}
	return strconv.FormatInt(int64(t), 10)
}

// MarshalText implements encoding.TextMarshaler with String.
func (t DataType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseDataType.
func (t *DataType) UnmarshalText(b []byte) error { return setParsed(t, b, ParseDataType) }

const dataTypePrefix = "imp.data."

// ParseDataType parses the name of a defined data type, with or without
// Perl's "imp.data." prefix ("imp.data.stream", "stream",
// "http.header"), or a decimal integer (any integer: unknown types are
// carried unchanged). It is the inverse of String.
func ParseDataType(s string) (DataType, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return DataType(n), nil
	}
	if t, ok := loadDataTypes().byName[strings.TrimPrefix(s, dataTypePrefix)]; ok {
		return t, nil
	}
	return 0, &ParseError{What: "data type", Text: s}
}

// DataTypes returns every defined data type: stream, packet, then those
// added with DefineDataTypes in the order of definition (Perl's
// IMP_DATA_TYPES).
func DataTypes() []DataType { return append([]DataType(nil), loadDataTypes().order...) }

// DataTypeDef is one member of a data type suite for DefineDataTypes.
type DataTypeDef struct {
	// Name is the member's name; the type is called
	// "imp.data.<suite>.<Name>".
	Name string
	// Offset places the member relative to the suite's base number B:
	// an Offset of 0 or more gives the packet type B+Offset, a negative
	// one the stream type -B+Offset (so -2 gives -(B+2)).
	Offset int64
}

// DefineDataTypes defines a suite of data types as Net::IMP's IMP_DATA
// does, so that they print and parse by name: the suite itself is the
// type base, named "imp.data.<name>", and each def adds a member (see
// DataTypeDef). It returns the suite's type followed by its members'.
//
// Perl derives the base of IMP_DATA('http', ...) from the service's port
// (getservbyname, shifted left by 16: 80<<16 for http); here the caller
// gives the number, e.g. 80<<16, or another suite's type plus an offset
// for Perl's 'httprq[http+10]'. As in Perl, a name already defined, or a
// number whose value or negation is already in use, is an error; unlike
// Perl, the definition is all or nothing, and defining exactly the same
// names with the same numbers again is allowed and returns the same types.
//
// The names are process-wide and only change how types print and parse:
// data of any type is carried through whether it is defined or not.
func DefineDataTypes(name string, base int64, defs ...DataTypeDef) ([]DataType, error) {
	if name == "" {
		return nil, &DataTypeError{Msg: "suite needs a name"}
	}
	if base < 0 {
		return nil, &DataTypeError{Name: name, Msg: fmt.Sprintf("base %d is negative", base)}
	}
	names := []string{name}
	nums := []DataType{DataType(base)}
	for _, d := range defs {
		if d.Name == "" {
			return nil, &DataTypeError{Name: name, Msg: "member needs a name"}
		}
		if slices.Contains(names, name+"."+d.Name) {
			return nil, &DataTypeError{Name: name + "." + d.Name, Msg: "given twice"}
		}
		n, ok := memberNumber(base, d.Offset)
		if !ok {
			return nil, &DataTypeError{Name: name + "." + d.Name, Msg: "number out of range"}
		}
		names = append(names, name+"."+d.Name)
		nums = append(nums, n)
	}

	dataTypesMu.Lock()
	defer dataTypesMu.Unlock()
	old := loadDataTypes()
	next := &dataTypeTable{
		byNum:  make(map[DataType]string, len(old.byNum)+len(nums)),
		byName: make(map[string]DataType, len(old.byName)+len(names)),
		order:  append([]DataType(nil), old.order...),
	}
	for k, v := range old.byNum {
		next.byNum[k] = v
	}
	for k, v := range old.byName {
		next.byName[k] = v
	}
	same := 0
	for i, n := range names {
		num := nums[i]
		if have, ok := next.byName[n]; ok {
			if have == num {
				same++
				continue
			}
			return nil, &DataTypeError{Name: n, Msg: "already defined"}
		}
		if used, ok := next.byNum[num]; ok {
			return nil, &DataTypeError{Name: n, Msg: fmt.Sprintf("id %d already used for %s", num, used)}
		}
		if used, ok := next.byNum[-num]; ok {
			return nil, &DataTypeError{Name: n, Msg: fmt.Sprintf("id %d already used for %s", -num, used)}
		}
		next.byName[n] = num
		next.byNum[num] = n
		next.order = append(next.order, num)
	}
	if same > 0 && same < len(names) {
		return nil, &DataTypeError{Name: name, Msg: "partly defined already with other members"}
	}
	if same == 0 {
		dataTypes.Store(next)
	}
	return nums, nil
}

// memberNumber computes Net::IMP's number of a suite member.
func memberNumber(base, off int64) (DataType, bool) {
	if off >= 0 {
		n := base + off
		return DataType(n), n >= base
	}
	n := -base + off
	return DataType(n), n < -base
}

// DataTypeError reports a data type suite that DefineDataTypes cannot
// define.
type DataTypeError struct {
	// Name is the suite or member ("http", "http.header").
	Name string
	// Msg says what is wrong.
	Msg string
}

// Error names the suite or member and the problem.
func (e *DataTypeError) Error() string {
	if e.Name == "" {
		return "imp: data type: " + e.Msg
	}
	return "imp: data type " + e.Name + ": " + e.Msg
}

// dataTypeTable is an immutable snapshot of the defined data types.
type dataTypeTable struct {
	byNum  map[DataType]string // short name ("http.header") by number
	byName map[string]DataType // number by short name
	order  []DataType          // in the order of definition
}

var (
	dataTypesMu sync.Mutex // serialises DefineDataTypes
	dataTypes   atomic.Pointer[dataTypeTable]
	builtinData = &dataTypeTable{
		byNum:  map[DataType]string{DataStream: "stream", DataPacket: "packet"},
		byName: map[string]DataType{"stream": DataStream, "packet": DataPacket},
		order:  []DataType{DataStream, DataPacket},
	}
)

func loadDataTypes() *dataTypeTable {
	if t := dataTypes.Load(); t != nil {
		return t
	}
	return builtinData
}
