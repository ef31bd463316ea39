package server_test

import (
	"bytes"
	"context"
	"errors"

	"github.com/goimp/imprpc/imp"
)

// probe is a plugin for the specs: each chunk of data is answered with
// pass(dir, end), except for chunks holding one of these words:
//
//	panic   the Data call panics
//	block   the Data call blocks until the analyzer's context is done
//	later   seen receives the analyzer's name, and pass(dir, end) is
//	        emitted from another goroutine once the spec closes release
//	        (emitted then receives the name)
//	echo    replace(dir, end, chunk): as many bytes out as in
//
// NewAnalyzer panics for the meta app "panic", fails for "error", and
// declines for "decline". Every analyzer's name (meta caddr) is sent on
// gone when its context is done.
type probe struct {
	release chan struct{}
	seen    chan string
	emitted chan string
	gone    chan string
}

func newProbe() *probe {
	return &probe{release: make(chan struct{}), seen: make(chan string, 100), emitted: make(chan string, 100), gone: make(chan string, 10000)}
}

func (p *probe) Interfaces() []imp.Interface {
	return []imp.Interface{{AnyData: true, Results: []imp.ResultType{imp.ResultPass, imp.ResultReplace}}}
}

func (p *probe) NewAnalyzer(ctx context.Context, meta *imp.Meta, out imp.Sink) (imp.Analyzer, error) {
	switch meta.App {
	case "panic":
		panic("probe: panic in NewAnalyzer")
	case "error":
		return nil, errors.New("probe refuses")
	case "decline":
		return nil, nil
	}
	name := meta.ClientAddr
	context.AfterFunc(ctx, func() { p.gone <- name })
	return &probeAnalyzer{p: p, ctx: ctx, out: out, name: name}, nil
}

type probeAnalyzer struct {
	p    *probe
	ctx  context.Context
	out  imp.Sink
	name string
	pos  [2]int64
}

func (a *probeAnalyzer) Data(dir imp.Dir, offset int64, _ imp.DataType, data []byte) {
	if offset > 0 {
		a.pos[dir] = offset
	}
	a.pos[dir] += int64(len(data))
	end := a.pos[dir]
	switch {
	case bytes.Contains(data, []byte("panic")):
		panic("probe: panic in Data")
	case bytes.Contains(data, []byte("block")):
		<-a.ctx.Done()
	case bytes.Contains(data, []byte("later")):
		a.p.seen <- a.name
		go func() {
			<-a.p.release
			a.out.Emit(imp.Pass(dir, end))
			a.p.emitted <- a.name
		}()
	case bytes.Contains(data, []byte("echo")):
		a.out.Emit(imp.Replace(dir, end, bytes.Clone(data)))
	default:
		a.out.Emit(imp.Pass(dir, end))
	}
}
