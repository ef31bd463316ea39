package check

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
)

// Status is the outcome of a check.
type Status int

// The outcomes of a check.
const (
	// Pass: the server did what the protocol requires.
	Pass Status = iota
	// Fail: it did not; Result.Expected and Result.Got say how.
	Fail
	// Warn: it did what Perl's imprpc_server.pl does where the protocol
	// is loose, which Perl's clients accept; Result.Note says what.
	Warn
	// NotApplicable: the check could not apply to this server;
	// Result.Note says why.
	NotApplicable
)

var statusNames = [...]string{Pass: "PASS", Fail: "FAIL", Warn: "WARN", NotApplicable: "N/A"}

// String returns "PASS", "FAIL", "WARN" or "N/A".
func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// MarshalText gives the status as String does (for JSON).
func (s Status) MarshalText() ([]byte, error) {
	if s < 0 || int(s) >= len(statusNames) {
		return nil, fmt.Errorf("check: unknown status %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads what MarshalText writes.
func (s *Status) UnmarshalText(b []byte) error {
	for i, n := range statusNames {
		if n == string(b) {
			*s = Status(i)
			return nil
		}
	}
	return fmt.Errorf("check: unknown status %q", b)
}

// Result is the outcome of one check.
type Result struct {
	// Check is the check's name ("analyzer/unknown").
	Check string `json:"check"`
	// Status is the outcome.
	Status Status `json:"status"`
	// Expected is what the protocol requires (Fail only).
	Expected string `json:"expected,omitempty"`
	// Got is what came instead (Fail only).
	Got string `json:"got,omitempty"`
	// Note explains a Warn or NotApplicable, or adds to a Pass.
	Note string `json:"note,omitempty"`
}

// String returns the result as one line: the status, the check's name,
// and for a failure what was expected and what came:
//
//	PASS analyzer/unknown
//	FAIL handshake/version: expected set_version(1); got ["set_version",2]
//	WARN framing/garbage: neither answered nor closed within 1s (...)
func (r Result) String() string {
	var b strings.Builder
	b.WriteString(r.Status.String())
	b.WriteByte(' ')
	b.WriteString(r.Check)
	if r.Status == Fail {
		fmt.Fprintf(&b, ": expected %s; got %s", r.Expected, r.Got)
		if r.Note != "" {
			fmt.Fprintf(&b, " (%s)", r.Note)
		}
	} else if r.Note != "" {
		b.WriteString(": ")
		b.WriteString(r.Note)
	}
	return b.String()
}

// Summary counts results by status.
type Summary struct {
	Passed        int `json:"passed"`
	Failed        int `json:"failed"`
	Warnings      int `json:"warnings"`
	NotApplicable int `json:"not_applicable"`
}

// Add counts r.
func (s *Summary) Add(r Result) {
	switch r.Status {
	case Pass:
		s.Passed++
	case Fail:
		s.Failed++
	case Warn:
		s.Warnings++
	default:
		s.NotApplicable++
	}
}

// OK reports whether every applicable check passed (warnings allowed).
func (s Summary) OK() bool { return s.Failed == 0 }

// String returns the summary line:
// "conformance: 15 passed, 0 failed, 2 warnings, 0 not applicable".
func (s Summary) String() string {
	return fmt.Sprintf("conformance: %d passed, %d failed, %d warnings, %d not applicable",
		s.Passed, s.Failed, s.Warnings, s.NotApplicable)
}

// Default values of Options.
const (
	DefaultTimeout   = 5 * time.Second
	DefaultQuiet     = time.Second
	DefaultAnalyzers = 500
)

// Options configure Run. The zero value checks a server on the Storable
// wire with the defaults.
type Options struct {
	// Wire is the server's wire format (its -I); the zero value is
	// Storable.
	Wire conn.Format
	// Timeout is how long a check waits for each reply the protocol
	// requires, and for connecting; 0 means DefaultTimeout (5s).
	Timeout time.Duration
	// Quiet is how long silence means "no answer" where the protocol
	// allows none (no set_version, nothing after garbage); 0 means
	// DefaultQuiet (1s).
	Quiet time.Duration
	// Analyzers is the number of analyzers analyzers/many opens at
	// once; 0 means DefaultAnalyzers (500).
	Analyzers int
}

// OptionsError reports options Run cannot use.
type OptionsError struct {
	// Field names the option.
	Field string
	// Msg says what is wrong.
	Msg string
}

// Error names the option and the problem.
func (e *OptionsError) Error() string { return "check: " + e.Field + ": " + e.Msg }

func (o Options) withDefaults() (Options, error) {
	if o.Wire != conn.Storable && o.Wire != conn.Sereal {
		return o, &OptionsError{Field: "Wire", Msg: fmt.Sprintf("unknown wire format %d", o.Wire)}
	}
	for _, f := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{{"Timeout", &o.Timeout, DefaultTimeout}, {"Quiet", &o.Quiet, DefaultQuiet}} {
		if *f.v < 0 {
			return o, &OptionsError{Field: f.name, Msg: "negative"}
		}
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	if o.Analyzers < 0 {
		return o, &OptionsError{Field: "Analyzers", Msg: "negative"}
	}
	if o.Analyzers == 0 {
		o.Analyzers = DefaultAnalyzers
	}
	return o, nil
}

// Check is one check: its name and what it requires.
type Check struct {
	// Name is the check's name, as results show it.
	Name string
	// Doc says what the check sends and what it requires.
	Doc string
	run func(*runner) Result
}

// Checks returns every check, in the order Run runs them.
func Checks() []Check {
	cs := make([]Check, len(checks))
	copy(cs, checks)
	return cs
}

// Run runs every check against the IMP RPC server at addr (host:port,
// [v6addr]:port, or a UNIX socket path containing "/"), calling report
// (if not nil) with each result as it comes, and returns the counts. Each
// check opens a connection of its own. The error is an *OptionsError for
// options it cannot use, or ctx's error if ctx ended (the summary then
// counts the checks run so far); a server that cannot be reached fails
// the checks, it is no error.
func Run(ctx context.Context, addr string, opts Options, report func(Result)) (Summary, error) {
	var sum Summary
	o, err := opts.withDefaults()
	if err != nil {
		return sum, err
	}
	if addr == "" {
		return sum, &OptionsError{Field: "addr", Msg: "empty"}
	}
	wire, err := conn.Options{Format: o.Wire}.Wire()
	if err != nil {
		return sum, err
	}
	r := &runner{ctx: ctx, addr: addr, opts: o, wire: wire, dataType: imp.DataStream}
	for _, c := range checks {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		res := c.run(r)
		res.Check = c.Name
		if ctx.Err() != nil && res.Status == Fail {
			return sum, ctx.Err()
		}
		sum.Add(res)
		if report != nil {
			report(res)
		}
	}
	return sum, nil
}

// runner is the state of one Run, shared by its checks.
type runner struct {
	ctx  context.Context
	addr string
	opts Options
	wire conn.Wire
	// hello is the handshake the first check saw.
	hello *hello
	// own is the server's own interface list (interface/none), and
	// dataType the data type analyzers get: the first one it names.
	own      []imp.Interface
	dataType imp.DataType
}

// errSilent is what a wait that saw nothing gives.
var errSilent = errors.New("check: nothing came")

func pass(note string) Result { return Result{Status: Pass, Note: note} }

func fail(expected, got string) Result {
	return Result{Status: Fail, Expected: expected, Got: got}
}

func warn(note string) Result { return Result{Status: Warn, Note: note} }

func notApplicable(why string) Result { return Result{Status: NotApplicable, Note: why} }
