package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goimp/imprpc/client"
	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
)

func init() {
	register(&command{
		Name:  "bench",
		Args:  "--remote ADDR [-I storable|sereal] [--connections C] [--analyzers N] [--window W] [--chunk BYTES] [--duration D | --messages M]",
		Short: "drive an IMP RPC server as hard as it goes and measure it",
		Long: `
Bench is a load generator for IMP RPC servers (Perl's imprpc_server.pl,
"imprpc serve", any other). It opens C connections with N analyzers each
and sends each analyzer chunks of BYTES bytes of stream data from the
client, keeping W data RPCs per analyzer waiting for their first result,
for the duration D (a Go duration such as 5s) or until M data RPCs were
answered in all.

Each chunk is "pass " followed by "x" bytes: a plugin answers it with one
pass, whether it is testing:every_result or a pattern plugin (pattern,
Net::IMP::Pattern) whose pattern does not occur in it (and is not longer
than a chunk). The latency of a data RPC is the time from sending it to
the first result of its analyzer after it; results beyond one per data RPC
are counted, not timed.

While it runs, a progress line is shown on stderr when stderr is a
terminal. The last line on stdout is one JSON object:

  messages_per_s  data RPCs sent and answered per second
  mb_per_s        their payload, 10^6 bytes per second
  results_per_s   results received per second
  p50_us, p99_us, max_us   round trip of a data RPC to its first result, microseconds
  connections, analyzers, window, chunk, wire, duration_s, messages, results
  errors          analyzers that ended early or got no answer for --timeout

The client reads every result as it arrives and never has more than
C*N*W data RPCs waiting, so a Perl server's send buffer never fills (it
would close the connection).`,
		Flags: benchFlags,
	})
}

// benchConfig is what the flags of bench say.
type benchConfig struct {
	Addr        string
	Wire        conn.Format
	Connections int
	Analyzers   int
	Window      int
	Chunk       int
	Duration    time.Duration // 0 with Messages
	Messages    int64         // 0 with Duration
	Timeout     time.Duration
}

// benchReport is the last line of bench.
type benchReport struct {
	MessagesPerS float64 `json:"messages_per_s"`
	MBPerS       float64 `json:"mb_per_s"`
	ResultsPerS  float64 `json:"results_per_s"`
	P50US        float64 `json:"p50_us"`
	P99US        float64 `json:"p99_us"`
	MaxUS        float64 `json:"max_us"`
	Connections  int     `json:"connections"`
	Analyzers    int     `json:"analyzers"`
	Window       int     `json:"window"`
	Chunk        int     `json:"chunk"`
	Wire         string  `json:"wire"`
	DurationS    float64 `json:"duration_s"`
	Messages     int64   `json:"messages"`
	Results      int64   `json:"results"`
	Errors       int64   `json:"errors"`
}

func benchFlags(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	var cfg benchConfig
	fs.StringVar(&cfg.Addr, "remote", "", "the IMP RPC server: host:port, [v6addr]:port or a UNIX socket path (required)")
	impl := fs.String("I", "storable", "the wire: storable or sereal (any case)")
	alias(fs, "I", "impl")
	fs.IntVar(&cfg.Connections, "connections", 1, "connections to open")
	fs.IntVar(&cfg.Analyzers, "analyzers", 16, "analyzers per connection")
	fs.IntVar(&cfg.Window, "window", 4, "data RPCs per analyzer waiting for an answer at a time")
	fs.IntVar(&cfg.Chunk, "chunk", 1024, "bytes of data per data RPC (at least 5)")
	fs.DurationVar(&cfg.Duration, "duration", 5*time.Second, "how long to run")
	fs.Int64Var(&cfg.Messages, "messages", 0, "stop after this many answered data RPCs instead")
	fs.DurationVar(&cfg.Timeout, "timeout", 10*time.Second, "an analyzer with no answer for this long counts as an error")
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected arguments %q", args)
		}
		var err error
		if cfg.Wire, err = conn.ParseFormat(*impl); err != nil {
			return usagef("-I: %v", err)
		}
		switch {
		case cfg.Addr == "":
			return usagef("--remote is required")
		case cfg.Connections < 1 || cfg.Analyzers < 1 || cfg.Window < 1:
			return usagef("--connections, --analyzers and --window must be at least 1")
		case cfg.Chunk < 5:
			return usagef("--chunk must be at least 5")
		case cfg.Messages < 0 || cfg.Duration <= 0 && cfg.Messages == 0:
			return usagef("--duration must be positive, or --messages given")
		case cfg.Timeout <= 0:
			return usagef("--timeout must be positive")
		}
		messagesSet := false
		fs.Visit(func(f *flag.Flag) { messagesSet = messagesSet || f.Name == "messages" })
		if messagesSet {
			cfg.Duration = 0
		}
		var show func(benchSnapshot)
		if isTerminal(e.Stderr) {
			show = func(s benchSnapshot) {
				fmt.Fprintf(e.Stderr, "\rbench: %5.1fs %10.0f msg/s %8.1f MB/s %6d errors ", s.elapsed.Seconds(), s.rate(), s.rate()*float64(cfg.Chunk)/1e6, s.errors)
			}
		}
		rep, err := runBench(ctx, cfg, show)
		if show != nil {
			fmt.Fprintln(e.Stderr)
		}
		if err != nil {
			return err
		}
		line, err := json.Marshal(rep)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(e.Stdout, "%s\n", line)
		return err
	}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// benchSnapshot is the state of a run for the progress line.
type benchSnapshot struct {
	elapsed  time.Duration
	messages int64
	errors   int64
}

func (s benchSnapshot) rate() float64 { return float64(s.messages) / max(s.elapsed.Seconds(), 1e-9) }

// benchRun is the shared state of a run.
type benchRun struct {
	cfg      benchConfig
	payload  []byte
	messages atomic.Int64 // answered data RPCs
	results  atomic.Int64
	errors   atomic.Int64
	last     atomic.Int64 // time of the last answer, ns since start
	start    time.Time
	stop     chan struct{} // closed when no more data is to be sent
	stopOnce sync.Once
	hist     histogram
}

// runBench drives the server at cfg.Addr and measures it; show, if not
// nil, is called about once a second.
func runBench(ctx context.Context, cfg benchConfig, show func(benchSnapshot)) (*benchReport, error) {
	run := &benchRun{cfg: cfg, stop: make(chan struct{})}
	run.payload = make([]byte, cfg.Chunk)
	copy(run.payload, "pass ")
	for i := 5; i < len(run.payload); i++ {
		run.payload[i] = 'x'
	}
	opts := client.Options{Wire: cfg.Wire, ResultBuffer: 2*cfg.Window + 32}
	factories := make([]*client.Factory, 0, cfg.Connections)
	defer func() {
		for _, f := range factories {
			f.Close()
		}
	}()
	var analyzers []*client.Analyzer
	for range cfg.Connections {
		f, err := client.Dial(ctx, cfg.Addr, opts)
		if err != nil {
			return nil, err
		}
		factories = append(factories, f)
		for range cfg.Analyzers {
			a, err := f.NewAnalyzer(ctx, nil)
			if err != nil {
				return nil, err
			}
			analyzers = append(analyzers, a)
		}
	}
	run.start = time.Now()
	var wg sync.WaitGroup
	for _, a := range analyzers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run.drive(ctx, a); err != nil {
				run.errors.Add(1)
			}
		}()
	}
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	var deadline <-chan time.Time
	if cfg.Duration > 0 {
		t := time.NewTimer(cfg.Duration)
		defer t.Stop()
		deadline = t.C
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
wait:
	for {
		select {
		case <-done:
			break wait
		case <-deadline:
			run.halt()
		case <-ctx.Done():
			run.halt()
		case <-ticker.C:
			if show != nil {
				show(benchSnapshot{time.Since(run.start), run.messages.Load(), run.errors.Load()})
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	elapsed := time.Duration(run.last.Load())
	if elapsed <= 0 {
		elapsed = time.Since(run.start)
	}
	secs := elapsed.Seconds()
	n := run.messages.Load()
	return &benchReport{
		MessagesPerS: float64(n) / secs,
		MBPerS:       float64(n) * float64(cfg.Chunk) / 1e6 / secs,
		ResultsPerS:  float64(run.results.Load()) / secs,
		P50US:        run.hist.quantile(0.5) / 1e3,
		P99US:        run.hist.quantile(0.99) / 1e3,
		MaxUS:        float64(run.hist.max.Load()) / 1e3,
		Connections:  cfg.Connections,
		Analyzers:    cfg.Analyzers,
		Window:       cfg.Window,
		Chunk:        cfg.Chunk,
		Wire:         cfg.Wire.String(),
		DurationS:    secs,
		Messages:     n,
		Results:      run.results.Load(),
		Errors:       run.errors.Load(),
	}, nil
}

// halt stops sending data.
func (run *benchRun) halt() { run.stopOnce.Do(func() { close(run.stop) }) }

// errNoAnswer reports an analyzer that got no result for the timeout.
var errNoAnswer = errors.New("bench: no answer")

// drive keeps Window data RPCs of a waiting for an answer until the run
// stops, then waits for the answers still due.
func (run *benchRun) drive(ctx context.Context, a *client.Analyzer) error {
	defer a.Close()
	sent := make([]time.Time, 0, run.cfg.Window) // send times of the unanswered, oldest first
	stall := time.NewTimer(run.cfg.Timeout)
	defer stall.Stop()
	stopping := run.stop
	for {
		for stopping != nil && len(sent) < run.cfg.Window {
			if err := a.Data(ctx, imp.FromClient, 0, imp.DataStream, run.payload); err != nil {
				return err
			}
			sent = append(sent, time.Now())
		}
		if stopping == nil && len(sent) == 0 {
			return nil
		}
		select {
		case _, ok := <-a.Results():
			if !ok {
				return a.Err()
			}
			run.results.Add(1)
			if len(sent) == 0 {
				continue
			}
			now := time.Now()
			run.hist.add(now.Sub(sent[0]))
			sent = append(sent[:0], sent[1:]...)
			run.last.Store(int64(now.Sub(run.start)))
			if n := run.messages.Add(1); run.cfg.Messages > 0 && n >= run.cfg.Messages {
				run.halt()
			}
			stall.Reset(run.cfg.Timeout)
		case <-stopping:
			stopping = nil
		case <-stall.C:
			return errNoAnswer
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// histogram counts durations in log-linear buckets (32 per power of two,
// under 3% apart), safe for concurrent use.
type histogram struct {
	counts [64 * histSub]atomic.Uint64
	max    atomic.Int64
}

const histSubBits = 5
const histSub = 1 << histSubBits

// bucket returns the bucket of v nanoseconds.
func histBucket(v uint64) int {
	if v < histSub {
		return int(v)
	}
	e := bits.Len64(v) - histSubBits // v >> (e-1) holds the top histSubBits+1 bits
	return e*histSub + int(v>>(e-1)) - histSub
}

// histLow returns the smallest value of bucket b.
func histLow(b int) float64 {
	if b < histSub {
		return float64(b)
	}
	e := b / histSub
	return float64(uint64(b%histSub+histSub) << (e - 1))
}

func (h *histogram) add(d time.Duration) {
	v := max(int64(d), 0)
	h.counts[histBucket(uint64(v))].Add(1)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// quantile returns the q-quantile in nanoseconds (the middle of its
// bucket), 0 when empty.
func (h *histogram) quantile(q float64) float64 {
	var total uint64
	for i := range h.counts {
		total += h.counts[i].Load()
	}
	if total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= max(rank, 1) {
			return min((histLow(i)+histLow(i+1))/2, float64(h.max.Load()))
		}
	}
	return float64(h.max.Load())
}
