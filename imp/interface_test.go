package imp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
)

// ifc builds an Interface for the tables: dt nil is any data type,
// results nil a missing list.
func ifc(dt any, results ...ResultType) Interface {
	i := Interface{Results: results}
	if dt == nil {
		i.AnyData = true
	} else {
		i.DataType = dt.(DataType)
	}
	return i
}

// ifr builds an Interface with an empty, not missing, result list.
func ifr(dt any) Interface {
	i := ifc(dt)
	i.Results = []ResultType{}
	return i
}

var (
	patternDeny = []Interface{ifc(nil, ResultPass, ResultDeny)}
	httpType    = DataType(80 << 16)
)

// matchCases are checked against Go's MatchInterfaces and, when perl and
// Net::IMP are there, against Net::IMP::Base's get_interface.
var matchCases = []struct {
	name     string
	own      []Interface
	offered  []Interface
	want     []Interface
	perlSkip string // why Perl's answer cannot be compared
}{
	{name: "no offer returns the plugin's own list", own: patternDeny, want: patternDeny},
	{name: "no offer and no interfaces returns nothing", own: nil, want: nil},
	{name: "offer with every emitted type and fatal is echoed",
		own:     patternDeny,
		offered: []Interface{ifc(DataStream, ResultPass, ResultDeny, ResultFatal)},
		want:    []Interface{ifc(DataStream, ResultPass, ResultDeny, ResultFatal)}},
	{name: "offer without fatal does not match",
		own:     patternDeny,
		offered: []Interface{ifc(DataStream, ResultPass, ResultDeny)}, want: nil},
	{name: "offer missing an emitted type does not match",
		own:     patternDeny,
		offered: []Interface{ifc(DataStream, ResultPass, ResultFatal)}, want: nil},
	{name: "empty offered result list means any and is echoed as empty",
		own: patternDeny, offered: []Interface{ifr(DataStream)}, want: []Interface{ifr(DataStream)}},
	{name: "missing offered result list means any and is echoed as missing",
		own: patternDeny, offered: []Interface{ifc(DataStream)}, want: []Interface{ifc(DataStream)}},
	{name: "offered any data type matches a plugin interface for any type",
		own:     patternDeny,
		offered: []Interface{ifc(nil, ResultPass, ResultDeny, ResultFatal)},
		want:    []Interface{ifc(nil, ResultPass, ResultDeny, ResultFatal)}},
	{name: "each offer in order, extra offered types are fine, at most one reply each",
		own: patternDeny,
		offered: []Interface{
			ifc(DataStream, ResultPass, ResultDeny, ResultFatal, ResultPause),
			ifc(DataPacket, ResultPass),
			ifc(DataPacket),
		},
		want: []Interface{
			ifc(DataStream, ResultPass, ResultDeny, ResultFatal, ResultPause),
			ifc(DataPacket),
		}},
	{name: "typed plugin interface matches only its own type, offered any matches only an any interface",
		own: []Interface{ifc(DataPacket, ResultPass), ifc(nil, ResultPass, ResultLog)},
		offered: []Interface{
			ifc(DataStream, ResultPass, ResultFatal),
			ifc(DataStream, ResultPass, ResultLog, ResultFatal),
			ifc(DataPacket, ResultPass, ResultFatal),
			ifc(nil, ResultPass, ResultFatal),
			ifc(nil, ResultPass, ResultLog, ResultFatal),
		},
		want: []Interface{
			ifc(DataStream, ResultPass, ResultLog, ResultFatal),
			ifc(DataPacket, ResultPass, ResultFatal),
			ifc(nil, ResultPass, ResultLog, ResultFatal),
		}},
	{name: "plugin data type 0 is false in Perl and matches every type",
		own:     []Interface{ifc(DataType(0), ResultPass)},
		offered: []Interface{ifc(DataStream, ResultPass, ResultFatal), ifc(nil, ResultPass, ResultFatal)},
		want:    []Interface{ifc(DataStream, ResultPass, ResultFatal), ifc(nil, ResultPass, ResultFatal)}},
	{name: "plugin without result list needs only fatal",
		own:     []Interface{ifc(DataStream)},
		offered: []Interface{ifc(DataStream, ResultFatal), ifc(DataStream, ResultPass)},
		want:    []Interface{ifc(DataStream, ResultFatal)}},
	{name: "plugin's pause, continue and replace_later need not be offered",
		own:     []Interface{ifc(DataStream, ResultPass, ResultPause, ResultContinue, ResultReplaceLater)},
		offered: []Interface{ifc(DataStream, ResultPass, ResultFatal)},
		want:    []Interface{ifc(DataStream, ResultPass, ResultFatal)}},
	{name: "first matching plugin interface serves an offer",
		own: []Interface{ifc(DataStream, ResultPass), ifc(DataStream, ResultPass, ResultLog)},
		offered: []Interface{
			ifc(DataStream, ResultPass, ResultFatal),
			ifc(DataStream, ResultPass, ResultLog, ResultFatal),
			ifc(DataStream, ResultLog, ResultFatal),
		},
		want: []Interface{
			ifc(DataStream, ResultPass, ResultFatal),
			ifc(DataStream, ResultPass, ResultLog, ResultFatal),
		}},
	{name: "http types match by number",
		own:     []Interface{ifc(httpType, ResultPass, ResultReplace)},
		offered: []Interface{ifc(DataStream), ifc(httpType, ResultPass, ResultReplace, ResultFatal), ifc(httpType + 1)},
		want:    []Interface{ifc(httpType, ResultPass, ResultReplace, ResultFatal)}},
	{name: "unknown offered result types are carried in the echo",
		own:      []Interface{ifc(DataStream, ResultPass)},
		offered:  []Interface{ifc(DataStream, ResultPass, ResultFatal, ResultType(0x9999))},
		want:     []Interface{ifc(DataStream, ResultPass, ResultFatal, ResultType(0x9999))},
		perlSkip: "Perl maps an unknown result type to undef and echoes it as 0 (a Go peer keeps it)"},
}

func TestMatchInterfaces(t *testing.T) {
	for _, c := range matchCases {
		t.Run(c.name, func(t *testing.T) {
			got := MatchInterfaces(c.own, c.offered)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("MatchInterfaces = %v, want %v", got, c.want)
			}
			f := NewFactory(c.own, nil)
			if got, err := GetInterface(context.Background(), f, c.offered); err != nil || !reflect.DeepEqual(got, c.want) {
				t.Errorf("GetInterface = %v, %v; want %v", got, err, c.want)
			}
		})
	}
}

func TestMatchInterfacesPerl(t *testing.T) {
	var queries []map[string]any
	var cases []int
	for k, c := range matchCases {
		if c.perlSkip != "" {
			continue
		}
		queries = append(queries, map[string]any{"op": "get_interface", "own": ifsJSON(c.own), "offered": ifsJSON(c.offered)})
		cases = append(cases, k)
	}
	answers := askPerl(t, queries)
	for n, a := range answers {
		c := matchCases[cases[n]]
		var got []Interface
		for _, v := range a["reply"].([]any) {
			got = append(got, ifFromJSON(t, v))
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: Net::IMP::Base replies %v, the table says %v", c.name, got, c.want)
		}
	}
}

// setCases: set_interface on a plugin with interfaces own, and which of
// pause, continue and replace_later its analyzers drop afterwards.
var setCases = []struct {
	name string
	own  []Interface
	want Interface
	ok   bool
	drop []ResultType
}{
	{name: "pause offered: continue and replace_later dropped",
		own: patternDeny, want: ifc(DataStream, ResultPass, ResultDeny, ResultFatal, ResultPause), ok: true,
		drop: []ResultType{ResultContinue, ResultReplaceLater}},
	{name: "empty list: all three dropped",
		own: patternDeny, want: ifr(DataStream), ok: true,
		drop: []ResultType{ResultPause, ResultContinue, ResultReplaceLater}},
	{name: "missing list: all three dropped",
		own: patternDeny, want: ifc(DataStream), ok: true,
		drop: []ResultType{ResultPause, ResultContinue, ResultReplaceLater}},
	{name: "all three offered: nothing dropped",
		own:  patternDeny,
		want: ifc(DataStream, ResultPass, ResultDeny, ResultFatal, ResultPause, ResultContinue, ResultReplaceLater), ok: true},
	{name: "wrong data type: unsupported",
		own: []Interface{ifc(DataStream, ResultPass)}, want: ifr(DataPacket)},
	{name: "fatal not offered: unsupported",
		own: patternDeny, want: ifc(DataStream, ResultPass, ResultDeny)},
}

// emitAll is an analyzer that emits one result of each flow control type
// and a pass.
func emitAll(_ context.Context, _ *Meta, out Sink) (Analyzer, error) {
	for _, r := range []Result{Pause(0), Continue(0), ReplaceLater(0, 0, 5), Pass(0, 5)} {
		out.Emit(r)
	}
	return AnalyzerFunc(func(Dir, int64, DataType, []byte) {}), nil
}

// dropped returns the result types an analyzer of f drops.
func dropped(t *testing.T, f Factory) []ResultType {
	t.Helper()
	var got []ResultType
	if _, err := f.NewAnalyzer(context.Background(), new(Meta), SinkFunc(func(r Result) { got = append(got, r.Type) })); err != nil {
		t.Fatal(err)
	}
	var drop []ResultType
	for _, r := range []ResultType{ResultPause, ResultContinue, ResultReplaceLater, ResultPass} {
		if !slices.Contains(got, r) {
			drop = append(drop, r)
		}
	}
	return drop
}

func TestSetInterface(t *testing.T) {
	for _, c := range setCases {
		t.Run(c.name, func(t *testing.T) {
			f := NewFactory(c.own, emitAll)
			g, err := SetInterface(context.Background(), f, c.want)
			if !c.ok {
				if !errors.Is(err, ErrUnsupportedInterface) || g != nil {
					t.Fatalf("SetInterface = %v, %v; want ErrUnsupportedInterface", g, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := dropped(t, g); !reflect.DeepEqual(d, c.drop) {
				t.Errorf("drops %v, want %v", d, c.drop)
			}
			if len(c.drop) == 0 && g != f {
				t.Errorf("nothing to drop, but the factory changed")
			}
			// Setting again replaces the choice instead of adding to it.
			all := ifc(DataStream, ResultPass, ResultDeny, ResultFatal, ResultPause, ResultContinue, ResultReplaceLater)
			h, err := SetInterface(context.Background(), g, all)
			if err != nil || h != f {
				t.Errorf("SetInterface again = %v, %v; want the original factory", h, err)
			}
			if got, _ := GetInterface(context.Background(), g, nil); !reflect.DeepEqual(got, c.own) {
				t.Errorf("narrowed factory's interfaces %v, want %v", got, c.own)
			}
		})
	}
}

func TestSetInterfacePerl(t *testing.T) {
	var queries []map[string]any
	for _, c := range setCases {
		queries = append(queries, map[string]any{"op": "set_interface", "own": ifsJSON(c.own), "want": ifJSON(c.want)})
	}
	for k, a := range askPerl(t, queries) {
		c := setCases[k]
		if ok := a["ok"].(json.Number).String() == "1"; ok != c.ok {
			t.Errorf("%s: Net::IMP::Base set_interface ok=%v, the table says %v", c.name, ok, c.ok)
			continue
		}
		var ignore []ResultType
		for _, v := range a["ignore"].([]any) {
			n, _ := v.(json.Number).Int64()
			ignore = append(ignore, ResultType(n))
		}
		if c.ok && fmt.Sprint(ignore) != fmt.Sprint(c.drop) {
			t.Errorf("%s: Net::IMP::Base ignores %v, the table says %v", c.name, ignore, c.drop)
		}
	}
}

// negotiator is a factory that decides itself.
type negotiator struct {
	Factory
	offered []Interface
	want    Interface
}

func (n *negotiator) GetInterface(ctx context.Context, offered []Interface) ([]Interface, error) {
	n.offered = offered
	return []Interface{ifc(DataPacket, ResultPass)}, ctx.Err()
}

func (n *negotiator) SetInterface(ctx context.Context, want Interface) (Factory, error) {
	n.want = want
	return n, ctx.Err()
}

func TestNegotiatorDecides(t *testing.T) {
	n := &negotiator{Factory: NewFactory(patternDeny, emitAll)}
	offer := []Interface{ifc(DataStream)}
	ctx := context.Background()
	if got, err := GetInterface(ctx, n, offer); err != nil || !reflect.DeepEqual(got, []Interface{ifc(DataPacket, ResultPass)}) || !reflect.DeepEqual(n.offered, offer) {
		t.Errorf("GetInterface did not ask the negotiator: %v, %v", got, err)
	}
	g, err := SetInterface(ctx, n, ifr(DataPacket))
	if err != nil || g != n || !reflect.DeepEqual(n.want, ifr(DataPacket)) {
		t.Errorf("SetInterface did not ask the negotiator: %v, %v", g, err)
	}
	if d := dropped(t, g); d != nil {
		t.Errorf("a negotiator's analyzers are not filtered, but %v were dropped", d)
	}
	// The context reaches the negotiator.
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := GetInterface(done, n, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("GetInterface with a cancelled context: %v", err)
	}
	if _, err := SetInterface(done, n, ifr(DataPacket)); !errors.Is(err, context.Canceled) {
		t.Errorf("SetInterface with a cancelled context: %v", err)
	}
}

func TestInterfaceString(t *testing.T) {
	for _, c := range []struct {
		i    Interface
		want string
	}{
		{ifc(DataStream, ResultPass, ResultDeny), "[imp.data.stream, [pass, deny]]"},
		{ifc(nil, ResultPass), "[undef, [pass]]"},
		{ifc(DataPacket), "[imp.data.packet]"},
		{ifr(DataType(-2)), "[-2, []]"},
		{ifc(DataStream, ResultType(7)), "[imp.data.stream, [7]]"},
	} {
		if got := c.i.String(); got != c.want {
			t.Errorf("String() = %q, want %q", got, c.want)
		}
	}
}

func TestAcceptsData(t *testing.T) {
	for _, c := range []struct {
		i    Interface
		t    DataType
		want bool
	}{
		{ifc(nil), DataPacket, true},
		{ifc(DataStream), DataStream, true},
		{ifc(DataStream), DataPacket, false},
		{ifc(DataType(0)), DataType(-5242882), true},
	} {
		if got := c.i.AcceptsData(c.t); got != c.want {
			t.Errorf("%v.AcceptsData(%v) = %v", c.i, c.t, got)
		}
	}
}
