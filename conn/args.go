package conn

import (
	"strconv"

	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/perl"
)

// Version is the IMP RPC protocol version this package speaks, the only
// one there is.
const Version = 1

// Args returns the arguments of m (the elements after the op) as the wire
// carries them: ids, directions, offsets, types and versions as perl.Int,
// an interface as a reference to [data_type, [result_type...]] (data_type
// undef for any, and the result list left out in get_interface and
// interface when it is nil), the values of Context, Message and
// Result.Args as they are.
func Args(m Message) []perl.Value {
	switch m := m.(type) {
	case *GetInterface:
		return interfacesArgs(m.Interfaces)
	case *Interface:
		return interfacesArgs(m.Interfaces)
	case *SetInterface:
		return []perl.Value{interfaceValue(m.Interface, true)}
	case *NewAnalyzer:
		ctx := m.Context
		if ctx == nil {
			ctx = perl.HashRef(perl.NewHash(0))
		}
		return []perl.Value{perl.Int(m.ID), ctx}
	case *DeleteAnalyzer:
		return []perl.Value{perl.Int(m.ID)}
	case *Data:
		return []perl.Value{perl.Int(m.ID), perl.Int(m.Dir), offsetValue(m.Offset, m.UndefOffset), perl.Int(m.Type), dataValue(m.Data, m.UTF8)}
	case *SetVersion:
		return []perl.Value{perl.Int(m.Version)}
	case *Exception:
		msg := m.Message
		if msg == nil {
			msg = perl.Bytes{}
		}
		if m.NoID {
			return []perl.Value{msg}
		}
		return []perl.Value{perl.Int(m.ID), msg}
	case *Result:
		args := make([]perl.Value, 0, 2+len(m.Result.Args))
		args = append(args, perl.Int(m.ID), perl.Int(m.Result.Type))
		return append(args, m.Result.Args...)
	case *Raw:
		return m.Args
	}
	return nil
}

func offsetValue(off int64, undef bool) perl.Value {
	if undef && off == 0 {
		return perl.Undef{}
	}
	return perl.Int(off)
}

func dataValue(b []byte, utf8 bool) perl.Value {
	if utf8 {
		return perl.String(b)
	}
	if b == nil {
		return perl.Bytes{}
	}
	return perl.Bytes(b)
}

func interfacesArgs(ifs []imp.Interface) []perl.Value {
	args := make([]perl.Value, len(ifs))
	for i, f := range ifs {
		args[i] = interfaceValue(f, false)
	}
	return args
}

// interfaceValue returns [data_type, [result_type...]]; a nil result list
// is left out unless set (set_interface) asks for an empty list instead,
// as Perl's rpc_d2i does.
func interfaceValue(f imp.Interface, set bool) perl.Value {
	var dt perl.Value = perl.Int(f.DataType)
	if f.AnyData {
		dt = perl.Undef{}
	}
	if f.Results == nil && !set {
		return perl.ArrayRef(dt)
	}
	rts := make([]perl.Value, len(f.Results))
	for i, t := range f.Results {
		rts[i] = perl.Int(t)
	}
	return perl.ArrayRef(dt, perl.ArrayRef(rts...))
}

// ParseMessage returns the message of op with the arguments args, as a
// Perl peer sends them. Integers may come as integers, integral doubles or
// decimal strings (Storable's network order writes integers outside 32
// bits as strings); they are read as integers, and the encoders write them
// back as Perl would (Storable as the same strings). An op the protocol
// does not define gives a *UnknownOpError, arguments that do not fit the
// op an *ArgError (both with Offset -1: no stream position).
func ParseMessage(op Op, args []perl.Value) (Message, error) {
	p := argParser{op: op, args: args, offset: -1}
	m := p.parse()
	if p.err != nil {
		return nil, p.err
	}
	return m, nil
}

// argParser reads the arguments of one frame, keeping the first error.
type argParser struct {
	op     Op
	args   []perl.Value
	offset int64
	err    error
}

func (p *argParser) fail(arg int, name, msg string) {
	if p.err == nil {
		p.err = &ArgError{Offset: p.offset, Op: p.op, Arg: arg, Name: name, Msg: msg}
	}
}

// want checks the number of arguments.
func (p *argParser) want(n int) bool {
	if len(p.args) != n {
		p.fail(-1, "", argCount(n, len(p.args)))
		return false
	}
	return true
}

func argCount(want, got int) string {
	s := "want " + itoa(want) + " argument"
	if want != 1 {
		s += "s"
	}
	return s + ", got " + itoa(got)
}

// int reads argument i as an integer.
func (p *argParser) int(i int, name string) int64 {
	n, ok := imp.ToInt(p.args[i])
	if !ok {
		p.fail(i, name, "not an integer: "+describe(p.args[i]))
	}
	return n
}

func (p *argParser) parse() Message {
	switch p.op {
	case OpGetInterface:
		return &GetInterface{Interfaces: p.interfaces()}
	case OpInterface:
		return &Interface{Interfaces: p.interfaces()}
	case OpSetInterface:
		if !p.want(1) {
			return nil
		}
		f, _ := p.iface(0)
		return &SetInterface{Interface: f}
	case OpNewAnalyzer:
		if !p.want(2) {
			return nil
		}
		return &NewAnalyzer{ID: p.int(0, "analyzer_id"), Context: p.args[1]}
	case OpDeleteAnalyzer:
		if !p.want(1) {
			return nil
		}
		return &DeleteAnalyzer{ID: p.int(0, "analyzer_id")}
	case OpData:
		if !p.want(5) {
			return nil
		}
		d := &Data{ID: p.int(0, "analyzer_id"), Dir: imp.Dir(p.int(1, "dir"))}
		if isUndef(p.args[2]) {
			d.UndefOffset = true
		} else {
			d.Offset = p.int(2, "offset")
		}
		d.Type = imp.DataType(p.int(3, "data_type"))
		switch v := p.args[4].(type) {
		case perl.Bytes:
			d.Data = v
		case perl.String:
			d.Data, d.UTF8 = []byte(v), true
		default:
			p.fail(4, "data", "not a string: "+describe(v))
		}
		return d
	case OpSetVersion:
		if !p.want(1) {
			return nil
		}
		return &SetVersion{Version: p.int(0, "version")}
	case OpException:
		switch len(p.args) {
		case 1:
			return &Exception{Message: p.args[0], NoID: true}
		case 2:
			return &Exception{ID: p.int(0, "analyzer_id"), Message: p.args[1]}
		}
		p.fail(-1, "", "want 2 arguments (or only the message), got "+itoa(len(p.args)))
		return nil
	case OpResult:
		if len(p.args) < 2 {
			p.fail(-1, "", "want 2 or more arguments, got "+itoa(len(p.args)))
			return nil
		}
		r := &Result{ID: p.int(0, "analyzer_id")}
		r.Result.Type = imp.ResultType(p.int(1, "result_type"))
		if len(p.args) > 2 {
			r.Result.Args = p.args[2:len(p.args):len(p.args)]
		}
		return r
	}
	p.err = &UnknownOpError{Offset: p.offset, Op: p.op, Args: p.args}
	return nil
}

func isUndef(v perl.Value) bool {
	_, ok := v.(perl.Undef)
	return ok
}

// interfaces reads every argument as an interface.
func (p *argParser) interfaces() []imp.Interface {
	ifs := make([]imp.Interface, len(p.args))
	for i := range p.args {
		ifs[i], _ = p.iface(i)
	}
	return ifs
}

// iface reads argument i as [data_type, [result_type...]]: data_type undef
// is any type, a missing or undef result list any result type (nil
// Results). Elements after the second are ignored, as Perl ignores them.
func (p *argParser) iface(i int) (imp.Interface, bool) {
	var f imp.Interface
	a := arrayOf(p.args[i])
	if a == nil || len(a.Elems) == 0 {
		p.fail(i, "interface", "not [data_type, [result_type...]]: "+describe(p.args[i]))
		return f, false
	}
	if isUndef(a.Elems[0]) {
		f.AnyData = true
	} else if n, ok := imp.ToInt(a.Elems[0]); ok {
		f.DataType = imp.DataType(n)
	} else {
		p.fail(i, "interface", "data type is not an integer: "+describe(a.Elems[0]))
		return f, false
	}
	if len(a.Elems) < 2 || isUndef(a.Elems[1]) {
		return f, true
	}
	rl := arrayOf(a.Elems[1])
	if rl == nil {
		p.fail(i, "interface", "result list is not an array: "+describe(a.Elems[1]))
		return f, false
	}
	f.Results = make([]imp.ResultType, len(rl.Elems))
	for k, v := range rl.Elems {
		n, ok := imp.ToInt(v)
		if !ok {
			p.fail(i, "interface", "result type is not an integer: "+describe(v))
			return f, false
		}
		f.Results[k] = imp.ResultType(n)
	}
	return f, true
}

// arrayOf returns the array v refers to, or nil.
func arrayOf(v perl.Value) *perl.Array {
	if r, ok := v.(perl.Ref); ok {
		if a, ok := r.To.(*perl.Array); ok && a != nil {
			return a
		}
	}
	return nil
}

func itoa(n int) string { return strconv.Itoa(n) }

// describe describes v for error messages as perl.Describe does, but
// looks at most a few references deep, so that a reference cycle
// through a scalar ($x = \$x) cannot recurse without end.
func describe(v perl.Value) string { return describeDepth(v, 3) }

func describeDepth(v perl.Value, depth int) string {
	switch x := v.(type) {
	case perl.Ref:
		if x.To == nil || depth == 0 {
			return "reference"
		}
		return "reference to " + describeDepth(x.To, depth-1)
	case *perl.Scalar:
		if x == nil || depth == 0 {
			return "scalar"
		}
		s := "scalar holding " + describeDepth(x.Value, depth-1)
		if x.Class != "" {
			s += " blessed into " + strconv.Quote(x.Class)
		}
		return s
	}
	return perl.Describe(v)
}
