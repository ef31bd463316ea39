// Package testplugin holds IMP plugins for testing IMP RPC peers, each
// the twin of a Perl test plugin in the repository's
// perl-fixtures/lib/ImpFixture/Plugin, giving the same results for the
// same input, so that a test can run the same scenario against the Go
// server and against Perl's imprpc_server.pl:
//
//	name                  alias (the Perl class)            what it does
//	testing:decline       ImpFixture::Plugin::Decline       declines every analyzer (how=empty|undef)
//	testing:every_result  ImpFixture::Plugin::EveryResult   emits the results the data names
//	testing:echo_context  ImpFixture::Plugin::EchoContext   echoes the analyzer context as acctfield results
//
// Importing the package registers them:
//
//	import _ "github.com/goimp/imprpc/plugin/testplugin"
//
// testing:every_result reads each chunk of data as words separated by
// white space: a word NAME or NAME:SHAPE names a result to emit (pass,
// pass:max, log:warning, deny:extra, acctfield:uint, pause:nodir, ...).
// Its configuration results=NAME,... selects the result types it may emit
// and declares (default all), dtype=N the data type of its interface
// (default any). The Perl module's documentation lists every word and
// the exact result it gives.
//
// testing:echo_context emits, when an analyzer is made,
// acctfield("meta.KEY", VALUE) for every scalar of the context's meta
// hash (nested hashes and arrays flattened into the key, keys sorted),
// then pass(0, -1) and pass(1, -1).
package testplugin

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/perl"
)

func init() {
	imp.Register(imp.Plugin{
		Name:    "testing:decline",
		Aliases: []string{"ImpFixture::Plugin::Decline"},
		Doc: `for tests: declines every analyzer
how=empty|undef  how the Perl twin declines (an empty list or undef); no difference here`,
		New: func(cfg imp.Config) (imp.Factory, error) {
			var errs []error
			if how, ok := cfg.Get("how"); ok && how != "empty" && how != "undef" {
				errs = append(errs, configError("how must be empty or undef"))
			}
			if err := errors.Join(append(errs, cfg.CheckKeys("how", "eventlib"))...); err != nil {
				return nil, err
			}
			return imp.NewFactory([]imp.Interface{{AnyData: true, Results: []imp.ResultType{imp.ResultPass}}},
				func(context.Context, *imp.Meta, imp.Sink) (imp.Analyzer, error) { return nil, nil }), nil
		},
	})
	imp.Register(imp.Plugin{
		Name:    "testing:every_result",
		Aliases: []string{"ImpFixture::Plugin::EveryResult"},
		Doc: `for tests: emits the results the data names (words NAME or NAME:SHAPE)
results=NAME,...  the result types it may emit (default all)
dtype=N           the data type of its interface (default any)`,
		New: newEveryResult,
	})
	imp.Register(imp.Plugin{
		Name:    "testing:echo_context",
		Aliases: []string{"ImpFixture::Plugin::EchoContext"},
		Doc:     "for tests: echoes the analyzer context as acctfield results, then passes everything (no configuration)",
		New: func(cfg imp.Config) (imp.Factory, error) {
			if err := cfg.CheckKeys("eventlib"); err != nil {
				return nil, err
			}
			return imp.NewFactory([]imp.Interface{{AnyData: true, Results: []imp.ResultType{imp.ResultAcctField, imp.ResultPass}}}, newEcho), nil
		},
	})
}

// allResults are the result types of Net::IMP in the order the Perl
// plugin declares them.
var allResults = []imp.ResultType{
	imp.ResultLog, imp.ResultPortOpen, imp.ResultPortClose, imp.ResultAcctField,
	imp.ResultPause, imp.ResultContinue, imp.ResultReplaceLater, imp.ResultPass,
	imp.ResultPassPattern, imp.ResultPrepass, imp.ResultToSender, imp.ResultReplace,
	imp.ResultDeny, imp.ResultDrop, imp.ResultFatal,
}

// configError reports a configuration problem, in the Perl plugin's
// words.
type configError string

// Error returns "testplugin: " and the problem.
func (e configError) Error() string { return "testplugin: " + string(e) }

func newEveryResult(cfg imp.Config) (imp.Factory, error) {
	var errs []error
	types := allResults
	if r, ok := cfg.Get("results"); ok {
		types = []imp.ResultType{}
		names := strings.Split(r, ",")
		for len(names) > 0 && names[len(names)-1] == "" { // as Perl's split
			names = names[:len(names)-1]
		}
		for _, name := range names {
			i := slices.IndexFunc(allResults, func(t imp.ResultType) bool { return t.String() == name })
			if i < 0 {
				errs = append(errs, configError("unknown result type "+name))
				continue
			}
			types = append(types, allResults[i])
		}
	}
	iface := imp.Interface{AnyData: true, Results: types}
	if cfg.Has("dtype") {
		d, ok := cfg.Get("dtype")
		n, err := strconv.ParseInt(d, 10, 64)
		if !ok || err != nil || strings.HasPrefix(d, "+") {
			errs = append(errs, configError("dtype must be an integer"))
		}
		iface = imp.Interface{DataType: imp.DataType(n), Results: types}
	}
	errs = append(errs, cfg.CheckKeys("results", "dtype", "eventlib"))
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return imp.NewFactory([]imp.Interface{iface}, func(_ context.Context, _ *imp.Meta, out imp.Sink) (imp.Analyzer, error) {
		return &everyResult{types: types, out: out}, nil
	}), nil
}

// words maps the words of testing:every_result to their results, given
// the chunk's direction, start and end offsets and length.
var words = map[string]func(dir imp.Dir, start, end, n int64) imp.Result{
	"pass":              func(d imp.Dir, _, e, _ int64) imp.Result { return imp.Pass(d, e) },
	"pass:max":          func(d imp.Dir, _, _, _ int64) imp.Result { return imp.Pass(d, imp.MaxOffset) },
	"prepass":           func(d imp.Dir, _, e, _ int64) imp.Result { return imp.Prepass(d, e) },
	"prepass:max":       func(d imp.Dir, _, _, _ int64) imp.Result { return imp.Prepass(d, imp.MaxOffset) },
	"replace":           func(d imp.Dir, _, e, _ int64) imp.Result { return imp.Replace(d, e, []byte("replaced")) },
	"replace:empty":     func(d imp.Dir, _, e, _ int64) imp.Result { return imp.Replace(d, e, []byte{}) },
	"replace:latin1":    func(d imp.Dir, _, e, _ int64) imp.Result { return imp.Replace(d, e, []byte("caf\xe9")) },
	"replace_later":     func(d imp.Dir, s, e, _ int64) imp.Result { return imp.ReplaceLater(d, s, e) },
	"replace_later:max": func(d imp.Dir, s, _, _ int64) imp.Result { return imp.ReplaceLater(d, s, imp.MaxOffset) },
	"pass_pattern":      func(d imp.Dir, _, _, _ int64) imp.Result { return imp.PassPattern(d, imp.QR(`\r?\n`, ""), 2) },
	"pass_pattern:i":    func(d imp.Dir, _, _, _ int64) imp.Result { return imp.PassPattern(d, imp.QR("end", "i"), 3) },
	"pass_pattern:string": func(d imp.Dir, _, _, _ int64) imp.Result {
		return imp.PassPattern(d, perl.Bytes("\r\n"), 2)
	},
	"tosender": func(d imp.Dir, _, _, _ int64) imp.Result { return imp.ToSender(d, []byte("to sender")) },
	"deny":     func(d imp.Dir, _, _, _ int64) imp.Result { return imp.Deny(d, "denied") },
	"deny:noreason": func(d imp.Dir, _, _, _ int64) imp.Result {
		return imp.Result{Type: imp.ResultDeny, Args: []perl.Value{perl.Int(d)}}
	},
	"deny:extra": func(d imp.Dir, _, _, _ int64) imp.Result {
		return imp.Deny(d, "denied", perl.Bytes("key"), perl.Bytes("value"), perl.Bytes("n"), perl.Int(7))
	},
	"deny:utf8": func(d imp.Dir, _, _, _ int64) imp.Result { return imp.Deny(d, "dénié ☺") },
	"drop":      func(imp.Dir, int64, int64, int64) imp.Result { return imp.Drop() },
	"fatal":     func(imp.Dir, int64, int64, int64) imp.Result { return imp.Fatal("fatal error") },
	"log": func(d imp.Dir, s, _, n int64) imp.Result {
		return imp.Log(d, s, n, imp.LogInfo, "log message")
	},
	"log:extra": func(d imp.Dir, s, _, n int64) imp.Result {
		return imp.Log(d, s, n, imp.LogInfo, "log message", perl.Bytes("key"), perl.Bytes("value"), perl.Bytes("n"), perl.Int(42))
	},
	"log:utf8":  func(d imp.Dir, s, _, n int64) imp.Result { return imp.Log(d, s, n, imp.LogInfo, "café ☺") },
	"port_open": func(d imp.Dir, _, e, _ int64) imp.Result { return imp.PortOpen(d, e) },
	"port_open:extra": func(d imp.Dir, _, e, _ int64) imp.Result {
		return imp.PortOpen(d, e, perl.Bytes("192.0.2.1"), perl.Int(8080))
	},
	"port_close": func(d imp.Dir, _, e, _ int64) imp.Result { return imp.PortClose(d, e) },
	"port_close:extra": func(d imp.Dir, _, e, _ int64) imp.Result {
		return imp.PortClose(d, e, perl.Bytes("192.0.2.1"), perl.Int(8080))
	},
	"acctfield":        acct("key", perl.Bytes("value")),
	"acctfield:int":    acct("n", perl.Int(42)),
	"acctfield:neg":    acct("n", perl.Int(-5)),
	"acctfield:big":    acct("n", perl.Int(1<<40)),
	"acctfield:uint":   acct("n", perl.Uint(1<<64-1)),
	"acctfield:double": acct("x", perl.Float(0.5)),
	"acctfield:utf8":   acct("text", perl.String("☺")),
	"acctfield:latin1": acct("bytes", perl.Bytes("caf\xe9")),
	"acctfield:undef":  acct("none", perl.Undef{}),
	"acctfield:numstr": acct("n", perl.Bytes("42")),
	"pause":            func(d imp.Dir, _, _, _ int64) imp.Result { return imp.Pause(d) },
	"pause:nodir":      func(imp.Dir, int64, int64, int64) imp.Result { return imp.Result{Type: imp.ResultPause} },
	"continue":         func(d imp.Dir, _, _, _ int64) imp.Result { return imp.Continue(d) },
	"continue:nodir":   func(imp.Dir, int64, int64, int64) imp.Result { return imp.Result{Type: imp.ResultContinue} },
}

func init() {
	for l := imp.LogDebug; l <= imp.LogEmergency; l++ {
		words["log:"+l.String()] = func(d imp.Dir, s, _, n int64) imp.Result {
			return imp.Log(d, s, n, l, "log message")
		}
	}
}

func acct(key string, v perl.Value) func(imp.Dir, int64, int64, int64) imp.Result {
	return func(imp.Dir, int64, int64, int64) imp.Result { return imp.AcctField(key, v) }
}

// everyResult is an analyzer of testing:every_result.
type everyResult struct {
	types []imp.ResultType
	out   imp.Sink
	pos   [2]int64
}

// Data emits the results the words of data name.
func (a *everyResult) Data(dir imp.Dir, offset int64, _ imp.DataType, data []byte) {
	start := a.pos[dir]
	if offset != 0 {
		start = offset
	}
	end := start + int64(len(data))
	a.pos[dir] = end
	for _, w := range fields(data) {
		mk, ok := words[string(w)]
		if !ok {
			continue
		}
		if r := mk(dir, start, end, int64(len(data))); slices.Contains(a.types, r.Type) {
			a.out.Emit(r)
		}
	}
}

// fields splits data at ASCII white space, as Perl's split ' ' splits a
// byte string.
func fields(data []byte) [][]byte {
	return bytes.FieldsFunc(data, func(r rune) bool {
		return r == ' ' || r >= '\t' && r <= '\r'
	})
}

// newEcho makes an analyzer of testing:echo_context.
func newEcho(_ context.Context, meta *imp.Meta, out imp.Sink) (imp.Analyzer, error) {
	if meta.Raw != nil {
		flatten(out, key{text: "meta"}, perl.HashRef(meta.Raw))
	}
	out.Emit(imp.Pass(imp.FromClient, imp.MaxOffset))
	out.Emit(imp.Pass(imp.FromServer, imp.MaxOffset))
	return imp.AnalyzerFunc(func(imp.Dir, int64, imp.DataType, []byte) {}), nil
}

// key is a flattened key as Perl builds it: its characters, and whether
// it is a UTF-8 string (it is once any part was).
type key struct {
	text string // UTF-8 text
	utf8 bool
}

func (k key) join(part string, partUTF8 bool) key {
	return key{text: k.text + "." + part, utf8: k.utf8 || partUTF8}
}

// value returns the key as the Perl string EchoContext.pm makes.
func (k key) value() perl.Value {
	if k.utf8 {
		return perl.String(k.text)
	}
	b, _ := latin1Bytes(k.text)
	return perl.Bytes(b)
}

func latin1Bytes(s string) ([]byte, bool) {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xFF {
			return nil, false
		}
		b = append(b, byte(r))
	}
	return b, true
}

// flatten emits acctfield results for v under k, as _flatten in
// EchoContext.pm does.
func flatten(out imp.Sink, k key, v perl.Value) {
	if s, ok := v.(*perl.Scalar); ok && s != nil {
		v = s.Value
	}
	if ref, ok := v.(perl.Ref); ok {
		switch x := ref.To.(type) {
		case *perl.Hash:
			if x.Blessed() != "" {
				return
			}
			entries := slices.Clone(x.Entries)
			entries = slices.DeleteFunc(entries, func(e perl.HashEntry) bool { return e.Flags&perl.KeyPlaceholder != 0 })
			slices.SortFunc(entries, func(a, b perl.HashEntry) int { return strings.Compare(a.Text(), b.Text()) })
			for _, e := range entries {
				flatten(out, k.join(e.Text(), e.UTF8 || e.Flags&perl.KeyWasUTF8 != 0), e.Value)
			}
		case *perl.Array:
			if x.Blessed() != "" {
				return
			}
			for i, e := range x.Elems {
				flatten(out, k.join(strconv.Itoa(i), false), e)
			}
		}
		return
	}
	out.Emit(imp.Result{Type: imp.ResultAcctField, Args: []perl.Value{k.value(), v}})
}
