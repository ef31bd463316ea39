package imp

import (
	"context"
	"errors"
	"slices"
)

// A Factory makes analyzers: one per inspected connection. It is what a
// plugin's configuration turns into (Plugin.New), Net::IMP's factory
// object.
//
// A Factory is used by many goroutines at once: the server calls
// NewAnalyzer concurrently for different connections.
type Factory interface {
	// Interfaces returns the interfaces the factory supports: for each
	// data type (or any), the result types its analyzers may emit
	// (Net::IMP::Base's INTERFACE). GetInterface and SetInterface match
	// them against what a data provider offers, unless the factory
	// implements Negotiator. The caller must not modify the result.
	Interfaces() []Interface

	// NewAnalyzer makes the analyzer for one inspected connection,
	// described by meta (see ParseContext; never nil). The analyzer
	// emits its results to out, which it may keep and use from any
	// goroutine until ctx is done. It may emit results before
	// NewAnalyzer returns, such as pass(1, MaxOffset) for a direction it
	// does not inspect.
	//
	// NewAnalyzer returns (nil, nil) to decline: the connection needs no
	// inspection, and the server answers pass(0, MaxOffset) and
	// pass(1, MaxOffset) for it. An error means the analyzer cannot be
	// made; the server reports it to the data provider.
	//
	// ctx is the analyzer's lifetime: it is done when the data provider
	// deletes the analyzer, when its connection ends, or when the server
	// shuts down. After that, Data is no longer called and results
	// emitted to out are dropped. An analyzer that waits (a lookup, a
	// timer) or starts goroutines stops them when ctx is done; one that
	// holds resources can release them with context.AfterFunc.
	NewAnalyzer(ctx context.Context, meta *Meta, out Sink) (Analyzer, error)
}

// An Analyzer inspects the data of one connection in both directions,
// Net::IMP's analyzer object.
//
// The caller never runs two Data calls of one analyzer at once, and keeps
// their order; different analyzers run concurrently.
type Analyzer interface {
	// Data hands the analyzer the next chunk of data of direction dir
	// (always FromClient or FromServer) of type typ. An empty data means
	// the end of that direction. offset is 0 when the chunk follows the
	// data given before; otherwise it is the chunk's absolute position
	// in the direction's stream, after a pass into the future let data
	// go by unseen.
	//
	// Data must not keep data after it returns (copy what it needs
	// later), and should not block: slow work belongs in a goroutine
	// that emits its results when done.
	Data(dir Dir, offset int64, typ DataType, data []byte)
}

// AnalyzerFunc is an Analyzer made from a function.
type AnalyzerFunc func(dir Dir, offset int64, typ DataType, data []byte)

// Data calls f.
func (f AnalyzerFunc) Data(dir Dir, offset int64, typ DataType, data []byte) {
	f(dir, offset, typ, data)
}

// A Sink receives the results of one analyzer, in the order they are
// emitted. Emit may be called from any goroutine, also concurrently, and
// does not block for long; it takes over the result (see Result).
type Sink interface {
	Emit(r Result)
}

// SinkFunc is a Sink made from a function.
type SinkFunc func(r Result)

// Emit calls f.
func (f SinkFunc) Emit(r Result) { f(r) }

// A Negotiator is a Factory that decides itself which interfaces it
// supports instead of leaving it to Net::IMP::Base's rules, as
// Net::IMP::Cascade does with the interfaces of its parts, or as a
// factory that forwards to a remote IMP server does (which waits for the
// answer, hence the context).
type Negotiator interface {
	// GetInterface returns the supported interfaces among offered, or
	// all of them when nothing is offered (see MatchInterfaces).
	GetInterface(ctx context.Context, offered []Interface) ([]Interface, error)
	// SetInterface returns a factory for the interface the data
	// provider will use, or an error (ErrUnsupportedInterface when it
	// cannot be served).
	SetInterface(ctx context.Context, want Interface) (Factory, error)
}

// ErrUnsupportedInterface is the error of SetInterface for an interface
// the factory cannot serve. The Perl server's message for it is
// "set_interface: unsupported interface".
var ErrUnsupportedInterface = errors.New("imp: set_interface: unsupported interface")

// GetInterface answers a data provider's get_interface: the interfaces f
// supports among offered, or all of f's interfaces when nothing is
// offered. A Negotiator decides itself; for any other factory it is
// MatchInterfaces(f.Interfaces(), offered), which neither waits nor
// fails.
func GetInterface(ctx context.Context, f Factory, offered []Interface) ([]Interface, error) {
	if n, ok := f.(Negotiator); ok {
		return n.GetInterface(ctx, offered)
	}
	return MatchInterfaces(f.Interfaces(), offered), nil
}

// SetInterface answers a data provider's set_interface: the factory to use
// from now on for interface want, or ErrUnsupportedInterface (in which
// case the data provider goes on with f). A Negotiator decides itself.
// For any other factory, want must match one of f's interfaces as
// MatchInterfaces decides; the returned factory's analyzers then drop
// the pause, continue and replace_later results that want does not list
// (all three for an empty list), as Net::IMP::Base does. Setting an
// interface again on the returned factory replaces that choice.
func SetInterface(ctx context.Context, f Factory, want Interface) (Factory, error) {
	if n, ok := f.(Negotiator); ok {
		return n.SetInterface(ctx, want)
	}
	if len(MatchInterfaces(f.Interfaces(), []Interface{want})) == 0 {
		return nil, ErrUnsupportedInterface
	}
	var drop []ResultType
	for _, t := range [...]ResultType{ResultPause, ResultContinue, ResultReplaceLater} {
		if !slices.Contains(want.Results, t) {
			drop = append(drop, t)
		}
	}
	if len(drop) == 0 {
		return f, nil
	}
	return &narrowed{Factory: f, drop: drop}, nil
}

// narrowed is a factory after set_interface: its analyzers' flow control
// results that the data provider did not ask for are dropped.
type narrowed struct {
	Factory              // the factory before any set_interface
	drop    []ResultType // result types to drop
}

// NewAnalyzer makes the inner factory's analyzer with a filtering sink.
func (n *narrowed) NewAnalyzer(ctx context.Context, meta *Meta, out Sink) (Analyzer, error) {
	return n.Factory.NewAnalyzer(ctx, meta, &dropSink{out: out, drop: n.drop})
}

// GetInterface asks the inner factory: set_interface does not change it.
func (n *narrowed) GetInterface(ctx context.Context, offered []Interface) ([]Interface, error) {
	return GetInterface(ctx, n.Factory, offered)
}

// SetInterface starts again from the inner factory.
func (n *narrowed) SetInterface(ctx context.Context, want Interface) (Factory, error) {
	return SetInterface(ctx, n.Factory, want)
}

// dropSink passes results on except those of the types in drop.
type dropSink struct {
	out  Sink
	drop []ResultType
}

// Emit passes r on unless its type is dropped.
func (s *dropSink) Emit(r Result) {
	if !slices.Contains(s.drop, r.Type) {
		s.out.Emit(r)
	}
}

// NewFactory returns a Factory with the interfaces ifs whose NewAnalyzer
// calls newAnalyzer: the shortest way to a plugin whose factory has no
// state of its own.
func NewFactory(ifs []Interface, newAnalyzer func(ctx context.Context, meta *Meta, out Sink) (Analyzer, error)) Factory {
	return &funcFactory{ifs: slices.Clone(ifs), new: newAnalyzer}
}

type funcFactory struct {
	ifs []Interface
	new func(ctx context.Context, meta *Meta, out Sink) (Analyzer, error)
}

// Interfaces returns the interfaces given to NewFactory.
func (f *funcFactory) Interfaces() []Interface { return f.ifs }

// NewAnalyzer calls the function given to NewFactory.
func (f *funcFactory) NewAnalyzer(ctx context.Context, meta *Meta, out Sink) (Analyzer, error) {
	return f.new(ctx, meta, out)
}
