package imptest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/imp/imptest"
)

func TestRecorderConcurrent(t *testing.T) {
	var rec imptest.Recorder
	var wg sync.WaitGroup
	for g := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				rec.Emit(imp.Pass(imp.Dir(g&1), int64(i)))
			}
		}()
	}
	wg.Wait()
	if n := len(rec.Results()); n != 1000 {
		t.Errorf("%d results, want 1000", n)
	}
	rec.Reset()
	if n := len(rec.Results()); n != 0 {
		t.Errorf("%d results after Reset", n)
	}
}

// lastCtx is the context echo's last analyzer got.
var lastCtx context.Context

// echo emits pass for each chunk with the chunk's properties, so that the
// test sees what Run handed over.
func echo(ctx context.Context, meta *imp.Meta, out imp.Sink) (imp.Analyzer, error) {
	switch meta.App {
	case "decline":
		return nil, nil
	case "fail":
		out.Emit(imp.Fatal("early"))
		return nil, errors.New("cannot")
	}
	lastCtx = ctx
	return imp.AnalyzerFunc(func(dir imp.Dir, offset int64, typ imp.DataType, data []byte) {
		out.Emit(imp.Log(dir, offset, int64(len(data)), imp.LogDebug, fmt.Sprint(typ)))
	}), nil
}

func TestRun(t *testing.T) {
	f := imp.NewFactory(nil, echo)
	results, err := imptest.Run(f, nil,
		imptest.Chunk{Dir: imp.FromServer, Offset: 7, Type: imp.DataPacket, Data: []byte("abc")},
		imptest.Chunk{Dir: imp.FromClient, Type: imp.DataStream},
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(results); got != `[log(1, 7, 3, debug, "imp.data.packet") log(0, 0, 0, debug, "imp.data.stream")]` {
		t.Errorf("results %s", got)
	}
	if lastCtx.Err() == nil {
		t.Error("Run did not end the analyzer's context")
	}
	if _, err := imptest.Run(f, &imp.Meta{App: "decline"}); !errors.Is(err, imptest.ErrDeclined) {
		t.Errorf("decline: %v", err)
	}
	results, err = imptest.Run(f, &imp.Meta{App: "fail"})
	if err == nil || err.Error() != "cannot" || fmt.Sprint(results) != `[fatal("early")]` {
		t.Errorf("fail: %v, %v", results, err)
	}
}
