package conn

import (
	"strconv"
)

// Op is the operation code of an IMP RPC, Net::IMP::Remote's IMPRPC_*
// dualvars. String returns the dualvar's name; an op the protocol does not
// define prints as its integer.
type Op int

// The operations of IMP RPC version 1 (Net::IMP::Remote 0.010).
const (
	OpGetInterface   Op = 0x4001 // get_interface, client to server
	OpSetInterface   Op = 0x4002 // set_interface, client to server
	OpNewAnalyzer    Op = 0x4003 // new_analyzer, client to server
	OpDeleteAnalyzer Op = 0x4004 // delete_analyzer, client to server
	OpData           Op = 0x4005 // data, client to server
	OpSetVersion     Op = 0x4006 // set_version, server to client (first frame)
	OpException      Op = 0x4101 // exception, both ways
	OpInterface      Op = 0x4102 // interface, server to client
	OpResult         Op = 0x4103 // result, server to client
)

var ops = [...]Op{
	OpGetInterface, OpSetInterface, OpNewAnalyzer, OpDeleteAnalyzer, OpData,
	OpSetVersion, OpException, OpInterface, OpResult,
}

func (op Op) name() string {
	switch op {
	case OpGetInterface:
		return "get_interface"
	case OpSetInterface:
		return "set_interface"
	case OpNewAnalyzer:
		return "new_analyzer"
	case OpDeleteAnalyzer:
		return "delete_analyzer"
	case OpData:
		return "data"
	case OpSetVersion:
		return "set_version"
	case OpException:
		return "exception"
	case OpInterface:
		return "interface"
	case OpResult:
		return "result"
	}
	return ""
}

// String returns Perl's name of the op ("data"), or the decimal integer
// for an op the protocol does not define.
func (op Op) String() string {
	if n := op.name(); n != "" {
		return n
	}
	return strconv.Itoa(int(op))
}

// Known reports whether the protocol defines op. A Perl peer closes the
// connection when it receives an op it does not know.
func (op Op) Known() bool { return op.name() != "" }

// ParseOp parses Perl's name of an op ("get_interface") or a decimal
// integer (any integer, known or not). It is the inverse of String.
func ParseOp(s string) (Op, error) {
	for _, op := range ops {
		if op.name() == s {
			return op, nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, strconv.IntSize); err == nil {
		return Op(n), nil
	}
	return 0, &ParseError{What: "op", Text: s}
}

// ParseError reports text that names no op, wire format or other constant
// of this package.
type ParseError struct {
	// What is being parsed: "op", "wire format".
	What string
	// Text is the input.
	Text string
}

// Error names what could not be parsed.
func (e *ParseError) Error() string {
	return "conn: unknown " + e.What + " " + strconv.Quote(e.Text)
}
