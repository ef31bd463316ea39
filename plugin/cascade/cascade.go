// Package cascade is the IMP plugin "cascade", the Go form of Perl's
// Net::IMP::Cascade: it runs several plugins (parts) one after another
// on the same connection, as imprpc_server.pl does when it is given more
// than one -M. Data from the client (direction 0) goes through the parts
// in order, data from the server (direction 1) in reverse order; what a
// part passes or replaces is what the next part sees, and the results
// the cascade gives the data provider have offsets in the data as the
// provider sent it, however the parts changed its length.
//
// A server given several plugins makes one with New:
//
//	f, err := cascade.New(factories...)
//
// It is also registered as "cascade" and "Net::IMP::Cascade", with the
// parts as keys part1, part2, ... whose values are plugin specs
// NAME[=CONFIG] (opened with imp.Open, so through imp.DefaultRegistry; a
// "&" or "%" inside a part's configuration is written %26 or %25):
//
//	imprpc serve -M 'cascade=part1=pattern=string=a%26action=deny%26actdata=x&part2=...'
//
// # Results
//
// For the same data the cascade gives the same results as Perl's
// Net::IMP::Cascade, in the same order, wherever Perl's results are
// right, including its peculiarities (docs/conformance.md lists them with
// their tests): deny, drop, fatal, acctfield and log from a part go out
// at once, before the passes of the same batch; a part's log offset is
// mapped to the original stream; adjacent passes and replacements of one
// part are merged; a replacement by the same data is a pass; a
// replacement may come in pieces, with extra replace(dir, offset, "").
//
// Where Perl's cascade goes wrong, this one does better:
//   - after a part replaced the end of what it had, Perl hands it the
//     empty placeholder it keeps as if it were the end of the data: the
//     part stops inspecting (a later match goes through unchanged) or
//     Perl dies; here the part sees only real data;
//   - after a part replaced a whole packet, Perl never forwards the next
//     packet; here it does;
//   - tosender from a part goes to the data provider, in order with the
//     part's other results (Perl dies);
//   - pause and continue carry their direction: pause(dir) when the first
//     part pauses dir, continue(dir) when no part pauses it any more
//     (Perl uses a result as an array index and runs out of memory);
//   - a part that declines the connection is left out (Perl dies when
//     new_analyzer returns undef, and drops the part when it returns an
//     empty list); when every part declines, the cascade declines;
//   - a part that passes a direction to the end before any data of it
//     (Net::IMP::Pattern with rxdir) is left out of that direction (Perl
//     dies on the next data);
//   - data behind a last part that is done goes out (Perl dies when that
//     part had changed the length of the data);
//   - data after a pass into the future (with an offset) goes to the
//     parts with its offset (Perl dies);
//   - port_open and port_close from a part go out with the offset mapped
//     like log's, log from a part that is done with its direction goes
//     out as it is, and pass_pattern gives fatal (Perl dies on all of
//     them);
//   - where the cascade meets a state it cannot handle (a part that
//     replaces data it passed, say), it emits fatal("cascade: ...") and
//     ignores the rest of the connection, where Perl dies and loses the
//     frame.
//
// Results a part emits from another goroutine, after its Data returned,
// are handled as they come; the cascade is safe for that.
//
// # Interfaces
//
// get_interface with interfaces offered answers those that every part
// supports, in the offered order (an offered [type] without result list
// is answered [type, []], as Perl's cascade does); with none offered,
// every combination of one interface per part whose data types fit, with
// the union of their result types. Perl's rule pairs the parts'
// interfaces instead: it can list interfaces only some parts support or
// that were never offered, refuses offers naming result types it does
// not handle itself (tosender, pause, continue), and answers nothing for
// a single part or for parts with different result types.
// set_interface sets the interface on every part, as in Perl.
package cascade

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/goimp/imprpc/imp"
)

func init() {
	imp.Register(imp.Plugin{
		Name:    "cascade",
		Aliases: []string{"Net::IMP::Cascade"},
		Doc: `run several plugins one after another (Net::IMP::Cascade)
partN=NAME[=CONFIG]  the parts in order (part1, part2, ...); write & and % inside CONFIG as %26 and %25`,
		New: newFromConfig,
	})
}

// Error reports a problem of a cascade's configuration.
type Error struct {
	// Part is the number of the part at fault (1 for part1), 0 for the
	// cascade as a whole.
	Part int
	// Err is the problem.
	Err error
}

// Error returns "cascade: part N: ..." or "cascade: ...".
func (e *Error) Error() string {
	if e.Part == 0 {
		return "cascade: " + e.Err.Error()
	}
	return fmt.Sprintf("cascade: part%d: %v", e.Part, e.Err)
}

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// New returns a factory that runs the parts in order. It needs at least
// one part.
func New(parts ...imp.Factory) (imp.Factory, error) {
	if len(parts) == 0 {
		return nil, &Error{Err: errors.New("needs at least one part")}
	}
	for i, p := range parts {
		if p == nil {
			return nil, &Error{Part: i + 1, Err: errors.New("nil factory")}
		}
	}
	return &factory{parts: slices.Clone(parts)}, nil
}

// newFromConfig opens the parts named by keys part1, part2, ...
func newFromConfig(cfg imp.Config) (imp.Factory, error) {
	var errs []error
	specs := map[int]string{}
	for _, st := range cfg {
		if st.Key == "eventlib" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimPrefix(st.Key, "part"))
		switch {
		case !strings.HasPrefix(st.Key, "part") || err != nil || n < 1 || strings.HasPrefix(st.Key, "part0"):
			errs = append(errs, &Error{Err: fmt.Errorf("unexpected config key %s (parts are part1, part2, ...)", st.Key)})
		case st.NoValue || st.Value == "":
			errs = append(errs, &Error{Part: n, Err: errors.New("needs a plugin spec NAME[=CONFIG]")})
		default:
			specs[n] = st.Value
		}
	}
	if len(specs) == 0 && len(errs) == 0 {
		errs = append(errs, &Error{Err: errors.New("needs at least one part: part1=NAME[=CONFIG]")})
	}
	var parts []imp.Factory
	for n := 1; len(parts) < len(specs); n++ {
		s, ok := specs[n]
		if !ok {
			errs = append(errs, &Error{Part: n, Err: errors.New("is missing (parts are numbered from 1 without gaps)")})
			break
		}
		fs, err := imp.Open(s)
		if err != nil {
			errs = append(errs, &Error{Part: n, Err: err})
			parts = append(parts, nil)
			continue
		}
		parts = append(parts, fs[0])
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return New(parts...)
}

// factory is a cascade of part factories; read-only.
type factory struct {
	parts []imp.Factory
	bugs  perlBugs // for tests
}

// Interfaces returns the combinations of the parts' own interfaces: one
// interface of each part whose data types fit (any, or one type), with
// the union of their result types.
func (f *factory) Interfaces() []imp.Interface {
	combos := []imp.Interface{{AnyData: true, Results: []imp.ResultType{}}}
	for _, p := range f.parts {
		var next []imp.Interface
		for _, c := range combos {
			for _, i := range p.Interfaces() {
				if m, ok := combine(c, i); ok && !slices.ContainsFunc(next, func(x imp.Interface) bool { return same(x, m) }) {
					next = append(next, m)
				}
			}
		}
		combos = next
	}
	return combos
}

// combine merges two interfaces of different parts, if their data types
// fit.
func combine(a, b imp.Interface) (imp.Interface, bool) {
	m := imp.Interface{AnyData: a.AnyData, DataType: a.DataType, Results: slices.Clone(a.Results)}
	switch {
	case b.AnyData || b.DataType == 0:
	case m.AnyData:
		m.AnyData, m.DataType = false, b.DataType
	case m.DataType != b.DataType:
		return imp.Interface{}, false
	}
	for _, t := range b.Results {
		if !slices.Contains(m.Results, t) {
			m.Results = append(m.Results, t)
		}
	}
	return m, true
}

func same(a, b imp.Interface) bool {
	return a.AnyData == b.AnyData && a.DataType == b.DataType && slices.Equal(a.Results, b.Results)
}

// GetInterface answers get_interface: the offered interfaces that every
// part supports, in the offered order, or Interfaces when nothing is
// offered.
func (f *factory) GetInterface(ctx context.Context, offered []imp.Interface) ([]imp.Interface, error) {
	if len(offered) == 0 {
		return f.Interfaces(), nil
	}
	var reply []imp.Interface
	for _, o := range offered {
		ok := true
		for _, p := range f.parts {
			got, err := imp.GetInterface(ctx, p, []imp.Interface{o})
			if err != nil {
				return nil, err
			}
			if len(got) == 0 {
				ok = false
				break
			}
		}
		if ok {
			if o.Results == nil {
				// Perl's cascade answers an offered [type] as [type, []].
				o.Results = []imp.ResultType{}
			}
			reply = append(reply, o)
		}
	}
	return reply, nil
}

// SetInterface sets want on every part and returns the cascade of the
// resulting factories, or imp.ErrUnsupportedInterface when a part cannot
// serve it.
func (f *factory) SetInterface(ctx context.Context, want imp.Interface) (imp.Factory, error) {
	parts := make([]imp.Factory, len(f.parts))
	for i, p := range f.parts {
		np, err := imp.SetInterface(ctx, p, want)
		if err != nil {
			return nil, err
		}
		parts[i] = np
	}
	return &factory{parts: parts, bugs: f.bugs}, nil
}
