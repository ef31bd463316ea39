// Package imptest helps testing IMP plugins: a Sink that records results,
// and Run, which drives one analyzer through a sequence of chunks as a
// data provider would.
package imptest

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/goimp/imprpc/imp"
)

// Recorder is an imp.Sink that keeps every result emitted to it. It is
// safe for concurrent use; the zero value is ready.
type Recorder struct {
	mu      sync.Mutex
	results []imp.Result
}

// Emit records r.
func (rec *Recorder) Emit(r imp.Result) {
	rec.mu.Lock()
	rec.results = append(rec.results, r)
	rec.mu.Unlock()
}

// Results returns the results recorded so far, in the order emitted.
func (rec *Recorder) Results() []imp.Result {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.results)
}

// Reset forgets the results recorded so far.
func (rec *Recorder) Reset() {
	rec.mu.Lock()
	rec.results = nil
	rec.mu.Unlock()
}

// Chunk is one call of Analyzer.Data.
type Chunk struct {
	// Dir is the direction.
	Dir imp.Dir
	// Offset is 0 for data that follows on, else the absolute position.
	Offset int64
	// Type is the data type; there is no default.
	Type imp.DataType
	// Data is the data; empty for the end of the direction.
	Data []byte
}

// ErrDeclined is returned by Run when the factory declines the analyzer.
var ErrDeclined = errors.New("imptest: factory declined the analyzer")

// Run makes one analyzer of f for meta (nil: an empty one), gives it the
// chunks in order, and returns the results it emitted until the last Data
// call returned (results an analyzer emits later from other goroutines
// are not waited for). The analyzer's context is cancelled before Run
// returns. Run returns ErrDeclined if f declines, and the error of
// NewAnalyzer if it fails.
func Run(f imp.Factory, meta *imp.Meta, chunks ...Chunk) ([]imp.Result, error) {
	if meta == nil {
		meta = new(imp.Meta)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var rec Recorder
	a, err := f.NewAnalyzer(ctx, meta, &rec)
	if err != nil {
		return rec.Results(), err
	}
	if a == nil {
		return rec.Results(), ErrDeclined
	}
	for _, c := range chunks {
		a.Data(c.Dir, c.Offset, c.Type, c.Data)
	}
	return rec.Results(), nil
}
