package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/goimp/imprpc/client"
	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/perl"
	_ "github.com/goimp/imprpc/plugin/all" // the built-in plugins for -M
	"github.com/goimp/imprpc/plugin/cascade"
)

func init() {
	register(&command{
		Name:  "analyze",
		Args:  "(--remote ADDR [-I storable|sereal] | -M NAME[=CONFIG]...) [--type T] [--ctx KEY=VALUE]... [--chunk N] [--idle D] --dir0 FILE [--dir1 FILE]",
		Short: "run one analyzer over files, through an IMP server or in-process, and print its results",
		Long: `
Analyze runs one IMP analyzer over the data of one connection: FILE of
--dir0 as the data from the client (direction 0), then FILE of --dir1 as
the data from the server (direction 1), each followed by its end of data
(without --dir1, direction 1 ends at once, with no data). The data goes in
chunks of --chunk bytes (default: each file at once). The analyzer runs in
the IMP RPC server at --remote (Perl's imprpc_server.pl or "imprpc serve",
through package client), or in this process with the plugins of -M, which
gives the same results (several -M are cascaded, as the servers do).

The context of the analyzer is {meta => {KEY => VALUE, ...}} from --ctx,
in the order given, as Perl data providers send it: a VALUE that is a
decimal integer is sent as an integer, any other as a string (e.g. --ctx
caddr=192.0.2.10 --ctx cport=40001).

Each result is printed as one JSON line, as "imprpc frames" shows a result
RPC without the op and the analyzer id:

  ["pass",0,12]
  ["replace",0,18,"XXXXXX"]
  ["log",0,0,6,"info","msg"]

After deny, drop or fatal, nothing more is sent and nothing more printed.
The exit status is 0 when the analyzer is finished: both directions passed
to their end, or deny, drop or fatal, or declined, or no result for --idle
after both ends were sent; 1 with a message on an exception or any other
error.`,
		Flags: analyzeFlags,
	})
}

// analyzeConfig is what the flags of analyze say.
type analyzeConfig struct {
	remote  string
	wire    conn.Format
	modules []string
	typ     imp.DataType
	context perl.Value
	chunk   int
	idle    time.Duration
	dirs    [2][]byte
	logger  *slog.Logger
}

func analyzeFlags(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	remote := fs.String("remote", "", "the IMP RPC server: host:port, [v6addr]:port or a UNIX socket path")
	impl := fs.String("I", "storable", "with --remote: the wire, storable or sereal (any case)")
	alias(fs, "I", "impl")
	var modules listFlag
	fs.Var(&modules, "M", "run the plugin NAME[=CONFIG] in-process (repeatable: a cascade)")
	alias(fs, "M", "module")
	typ := fs.String("type", "stream", "the data type: stream, packet, a defined name or an integer")
	var ctxs listFlag
	fs.Var(&ctxs, "ctx", "KEY=VALUE of the context's meta hash (repeatable)")
	chunk := fs.Int("chunk", 0, "send the files in chunks of this many bytes (0: each file at once)")
	idle := fs.Duration("idle", 500*time.Millisecond, "after both ends are sent, stop when no result comes for this long")
	dir0 := fs.String("dir0", "", "FILE with the data from the client (required)")
	dir1 := fs.String("dir1", "", "FILE with the data from the server")
	debug := fs.Bool("d", false, "log every RPC to stderr")
	alias(fs, "d", "debug")
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected arguments %q", args)
		}
		var cfg analyzeConfig
		var err error
		switch {
		case (*remote == "") == (len(modules) == 0):
			return usagef("give either --remote or -M")
		case *dir0 == "":
			return usagef("--dir0 is required")
		case *chunk < 0:
			return usagef("--chunk must not be negative")
		case *idle <= 0:
			return usagef("--idle must be positive")
		}
		if cfg.wire, err = conn.ParseFormat(*impl); err != nil {
			return usagef("-I: %v", err)
		}
		if cfg.typ, err = imp.ParseDataType(*typ); err != nil {
			return usagef("--type: %v", err)
		}
		if cfg.context, err = metaContext(ctxs); err != nil {
			return usagef("--ctx: %v", err)
		}
		for i, name := range []string{*dir0, *dir1} {
			if name == "" {
				continue
			}
			if cfg.dirs[i], err = os.ReadFile(name); err != nil {
				return err
			}
		}
		cfg.remote, cfg.modules, cfg.chunk, cfg.idle = *remote, modules, *chunk, *idle
		cfg.logger = slog.New(slog.DiscardHandler)
		if *debug {
			cfg.logger = slog.New(slog.NewTextHandler(e.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
		out := bufio.NewWriter(e.Stdout)
		p := &resultPrinter{w: out}
		if cfg.remote != "" {
			err = analyzeRemote(ctx, &cfg, p)
		} else {
			err = analyzeLocal(ctx, &cfg, p)
		}
		if ferr := out.Flush(); err == nil {
			err = ferr
		}
		return err
	}
}

// metaContext builds {meta => {KEY => VALUE, ...}} from KEY=VALUE pairs:
// decimal integers as integers, anything else as strings.
func metaContext(pairs []string) (perl.Value, error) {
	meta := perl.NewHash(len(pairs))
	for _, kv := range pairs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not KEY=VALUE", kv)
		}
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && strconv.FormatInt(n, 10) == v {
			meta.Set(k, perl.Int(n))
		} else {
			meta.Set(k, perl.Str(v))
		}
	}
	ctx := perl.NewHash(1)
	ctx.Set("meta", perl.HashRef(meta))
	return perl.HashRef(ctx), nil
}

// resultPrinter prints results as JSON lines.
type resultPrinter struct {
	w    io.Writer
	line []byte
}

func (p *resultPrinter) print(r imp.Result) error {
	var err error
	if p.line, err = conn.AppendResultJSON(p.line[:0], r); err != nil {
		return err
	}
	p.line = append(p.line, '\n')
	_, err = p.w.Write(p.line)
	return err
}

// chunks calls send for every chunk of the data of both directions, each
// direction followed by its end, until send says to stop.
func chunks(cfg *analyzeConfig, send func(dir imp.Dir, data []byte) (stop bool, err error)) error {
	for dir, data := range cfg.dirs {
		n := cfg.chunk
		if n == 0 {
			n = max(len(data), 1)
		}
		for len(data) > 0 {
			c := data[:min(n, len(data))]
			data = data[len(c):]
			if stop, err := send(imp.Dir(dir), c); stop || err != nil {
				return err
			}
		}
		if stop, err := send(imp.Dir(dir), nil); stop || err != nil {
			return err
		}
	}
	return nil
}

// analyzeEnd turns why an analyzer ended into the command's error: nil
// for a finished or declined one.
func analyzeEnd(reason error) error {
	var ee *client.ExceptionError
	switch {
	case reason == nil, errors.Is(reason, client.ErrFinished), errors.Is(reason, client.ErrDeclined):
		return nil
	case errors.As(reason, &ee):
		return fmt.Errorf("exception(%d): %s", ee.ID, ee.Message)
	}
	return reason
}

// analyzeRemote runs the analyzer in the server at cfg.remote.
func analyzeRemote(ctx context.Context, cfg *analyzeConfig, p *resultPrinter) error {
	opts := client.Options{Wire: cfg.wire, Logger: cfg.logger}
	if cfg.typ != imp.DataStream && cfg.typ != imp.DataPacket {
		opts.DataTypes = []imp.DataType{cfg.typ} // any integer the user names
	}
	f, err := client.Dial(ctx, cfg.remote, opts)
	if err != nil {
		return err
	}
	defer f.Close()
	a, err := f.NewAnalyzer(ctx, cfg.context)
	if err != nil {
		return err
	}
	ends := make(chan struct{})
	received := make(chan error, 1)
	go func() { received <- receive(ctx, a, cfg.idle, ends, p) }()
	err = chunks(cfg, func(dir imp.Dir, data []byte) (bool, error) {
		err := a.Data(ctx, dir, 0, cfg.typ, data)
		if err != nil && a.Err() != nil {
			return true, nil // it has ended: send nothing more
		}
		return false, err
	})
	close(ends)
	if err != nil {
		a.Close()
		<-received
		return err
	}
	return <-received
}

// receive prints the results of a until it ends, or until no result came
// for idle after the ends were sent.
func receive(ctx context.Context, a *client.Analyzer, idle time.Duration, ends <-chan struct{}, p *resultPrinter) error {
	timer := time.NewTimer(idle)
	timer.Stop()
	defer timer.Stop()
	var timeout <-chan time.Time
	for {
		select {
		case r, ok := <-a.Results():
			if !ok {
				return analyzeEnd(a.Err())
			}
			if err := p.print(r); err != nil {
				return err
			}
			if timeout != nil {
				timer.Reset(idle)
			}
		case <-ends:
			ends = nil
			timer.Reset(idle)
			timeout = timer.C
		case <-timeout:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// analyzeLocal runs the analyzer in-process with the plugins of -M, the
// way a server runs it: a declined analyzer gets pass(0, -1) and
// pass(1, -1); the results are judged as package client judges them.
func analyzeLocal(ctx context.Context, cfg *analyzeConfig, p *resultPrinter) error {
	factories, err := imp.Open(cfg.modules...)
	if err != nil {
		return err
	}
	f := factories[0]
	if len(factories) > 1 {
		if f, err = cascade.New(factories...); err != nil {
			return err
		}
	}
	if !slices.ContainsFunc(f.Interfaces(), func(i imp.Interface) bool { return i.AcceptsData(cfg.typ) }) {
		// the Go server answers such data with an exception
		return fmt.Errorf("the plugin does not support data type %s", cfg.typ)
	}
	meta, err := imp.ParseContext(cfg.context)
	if err != nil {
		return err
	}
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	sink := &localSink{notify: make(chan struct{}, 1)}
	an, err := f.NewAnalyzer(actx, meta, sink)
	if err != nil {
		return err
	}
	if an == nil {
		sink.Emit(imp.Pass(imp.FromClient, imp.MaxOffset))
		sink.Emit(imp.Pass(imp.FromServer, imp.MaxOffset))
	}
	var progress client.Progress
	var end error
	// drain prints what the analyzer emitted so far and notes whether it
	// ended the analysis.
	drain := func() error {
		for _, r := range sink.take() {
			if end != nil {
				break
			}
			if err := p.print(r); err != nil {
				return err
			}
			end = progress.Result(r)
		}
		return nil
	}
	if err := drain(); err != nil {
		return err
	}
	err = chunks(cfg, func(dir imp.Dir, data []byte) (bool, error) {
		if end != nil {
			return true, nil
		}
		end = progress.Data(dir, 0, len(data))
		if an != nil && end == nil {
			an.Data(dir, 0, cfg.typ, data)
		}
		return false, drain()
	})
	if err != nil || end != nil {
		return err
	}
	// Results a plugin emits later, from other goroutines.
	timer := time.NewTimer(cfg.idle)
	defer timer.Stop()
	for end == nil {
		select {
		case <-sink.notify:
			if err := drain(); err != nil {
				return err
			}
			timer.Reset(cfg.idle)
		case <-timer.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// localSink keeps the results of an in-process analyzer.
type localSink struct {
	mu     sync.Mutex
	rs     []imp.Result
	notify chan struct{}
}

func (s *localSink) Emit(r imp.Result) {
	s.mu.Lock()
	s.rs = append(s.rs, r)
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (s *localSink) take() []imp.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.rs
	s.rs = nil
	return rs
}
