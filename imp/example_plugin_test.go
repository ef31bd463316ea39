package imp_test

// This file holds the complete plugin of docs/plugins.md, which quotes the
// part between the "plugin:" markers; TestPluginGuideQuotesExample keeps
// the two the same.

// plugin:begin
import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/perl"
)

// The limit plugin denies a connection once a direction has sent more
// than max bytes, and passes everything before.
func init() {
	imp.Register(imp.Plugin{
		Name:    "limit",
		Aliases: []string{"Example::IMP::Limit"},
		Doc: `deny a connection once a direction sent more than max bytes
max=N      the limit in bytes (required)
dir=0|1    limit only this direction, pass the other at once
skip=PORT  do not inspect connections to this server port`,
		New: newLimit,
	})
}

// limitFactory is the configured plugin. It is read-only after newLimit,
// so its analyzers may share it from any goroutine.
type limitFactory struct {
	max  int64
	dir  imp.Dir // the direction to limit, when one is
	one  bool    // only dir is limited
	skip int     // server port not to inspect, 0 for none
}

// newLimit checks the whole configuration and reports every problem.
func newLimit(cfg imp.Config) (imp.Factory, error) {
	f := new(limitFactory)
	var errs []error
	if v, ok := cfg.Get("max"); !ok {
		errs = append(errs, errors.New("max=N must be given"))
	} else if n, err := strconv.ParseInt(v, 10, 64); err != nil || n <= 0 {
		errs = append(errs, fmt.Errorf("max must be a positive integer, not %q", v))
	} else {
		f.max = n
	}
	if v, ok := cfg.Get("dir"); ok {
		if v == "0" || v == "1" {
			f.dir, f.one = imp.Dir(v[0]-'0'), true
		} else {
			errs = append(errs, fmt.Errorf("dir must be 0 or 1, not %q", v))
		}
	} else if cfg.Has("dir") {
		errs = append(errs, errors.New("dir needs a value"))
	}
	if v, ok := cfg.Get("skip"); ok {
		if p, err := strconv.Atoi(v); err == nil && p > 0 && p <= 65535 {
			f.skip = p
		} else {
			errs = append(errs, fmt.Errorf("skip must be a port number, not %q", v))
		}
	}
	errs = append(errs, cfg.CheckKeys("max", "dir", "skip"))
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return f, nil
}

// Interfaces: any data type; the analyzers emit pass and deny.
func (f *limitFactory) Interfaces() []imp.Interface {
	return []imp.Interface{{AnyData: true, Results: []imp.ResultType{imp.ResultPass, imp.ResultDeny}}}
}

func (f *limitFactory) NewAnalyzer(_ context.Context, meta *imp.Meta, out imp.Sink) (imp.Analyzer, error) {
	if f.skip != 0 && meta.ServerPort == f.skip {
		return nil, nil // declined: the server passes both directions
	}
	if f.one {
		out.Emit(imp.Pass(f.dir.Other(), imp.MaxOffset)) // not inspected
	}
	return &limitAnalyzer{f: f, out: out}, nil
}

// limitAnalyzer inspects one connection. Its Data calls come one at a
// time, so it needs no lock.
type limitAnalyzer struct {
	f    *limitFactory
	out  imp.Sink
	pos  [2]int64 // bytes seen so far, per direction
	done bool
}

func (a *limitAnalyzer) Data(dir imp.Dir, offset int64, _ imp.DataType, data []byte) {
	if a.done || a.f.one && dir != a.f.dir {
		return
	}
	if offset > 0 {
		a.pos[dir] = offset // data resumes after a gap
	}
	if len(data) == 0 {
		a.out.Emit(imp.Pass(dir, imp.MaxOffset)) // end of data: pass the rest
		return
	}
	a.pos[dir] += int64(len(data))
	if a.pos[dir] > a.f.max {
		a.done = true
		a.out.Emit(imp.Deny(dir, fmt.Sprintf("more than %d bytes", a.f.max),
			perl.Bytes("limit"), perl.Int(a.f.max)))
		return
	}
	a.out.Emit(imp.Pass(dir, a.pos[dir]))
}

// plugin:end
