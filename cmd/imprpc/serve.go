package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
	_ "github.com/goimp/imprpc/plugin/all"        // the built-in plugins
	_ "github.com/goimp/imprpc/plugin/testplugin" // the test plugins, twins of the Perl fixtures
	"github.com/goimp/imprpc/server"
)

// defaultServeAddr is where imprpc serve listens without ADDR.
const defaultServeAddr = "127.0.0.1:2000"

// serveGCPercent is the garbage collector's target (GOGC) of imprpc serve
// when the environment sets none: the server's heap is mostly frames that
// live for a moment, and a larger target saves most collections (see the
// Server section of docs/benchmarks.md).
const serveGCPercent = 400

// servePluginExample shows how to name a plugin.
const servePluginExample = `imprpc serve -M 'pattern=rx=secret&rxlen=6&action=deny&actdata=denied'`

func init() {
	register(&command{
		Name:  "serve",
		Args:  "[-M|--module NAME[=CONFIG]]... [-I|--impl storable|sereal] [-d|--debug[=GLOB]] [flags] [ADDR...]",
		Short: "serve IMP plugins to Perl data providers, in place of imprpc_server.pl",
		Long: `
Serve runs an IMP RPC server: a Perl data provider (imp-relay.pl,
App::HTTP_Proxy_IMP) configured with -M Net::IMP::Remote=addr=ADDR has its
traffic inspected by the plugins named with -M, as with Perl's
imprpc_server.pl, whose options it takes:

  ` + servePluginExample + `

Each -M names a plugin with its configuration in Net::IMP's str2cfg form
(key=value&key=value, only %XX decoded); the Perl class names work as well
(-M Net::IMP::Pattern=...). Several -M run the plugins one after another
(Net::IMP::Cascade). Every configuration is checked before the server
starts, and every problem is listed. --plugins lists the plugins.

ADDR is host:port (IPv4, [IPv6]:port, :port for all addresses) or, when it
contains "/", the path of a UNIX socket (created with --socket-mode; a
socket file left by a server that is gone is replaced). Several ADDR are
served at once; without one, serve listens on ` + defaultServeAddr + `.

-I selects the wire, as Net::IMP::Remote's impl option: Storable (the
default) or Sereal, in any case; the data provider must use the same.

Logs go to stderr: the listening addresses when the server starts,
problems as they happen. -d shows debug records, with every RPC; -d=GLOB
only those whose topic matches GLOB (several globs separated by commas):
rpc.<op> for the RPCs (rpc.data, rpc.result, rpc.new_analyzer, ...),
server.conn, server.analyzer, server.interface, server.client, server.listen.
For example -d='rpc.*' shows the RPCs and nothing else at debug level.

SIGINT or SIGTERM shuts the server down gracefully: it stops accepting,
waits until the clients have deleted their analyzers (at most
--shutdown-timeout), and exits.

Unless the environment sets GOGC, the garbage collector runs with
GOGC=400: most of the server's memory is frames that live for a moment.`,
		Flags: serveFlags,
	})
}

// serveOpts are the command line of serve.
type serveOpts struct {
	modules         listFlag
	impl            string
	debug           optFlag
	maxFrame        byteSize
	maxBuffer       byteSize
	maxAnalyzers    int
	callTimeout     time.Duration
	idleTimeout     time.Duration
	writeTimeout    time.Duration
	shutdownTimeout time.Duration
	socketMode      string
	serealProtocol  int
	serealTail      bool
	listPlugins     bool
}

func serveFlags(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	o := &serveOpts{debug: optFlag{Implicit: "*"}, maxFrame: conn.DefaultMaxFrameSize}
	fs.Var(&o.modules, "M", "a plugin NAME[=CONFIG]; several run one after another (a cascade)")
	alias(fs, "M", "module")
	fs.StringVar(&o.impl, "I", "storable", "the wire: storable or sereal (any case)")
	alias(fs, "I", "impl")
	fs.Var(&o.debug, "d", "log at debug level, with every RPC; =GLOB[,GLOB...] only the topics matching a GLOB")
	alias(fs, "d", "debug")
	fs.Var(&o.maxFrame, "max-frame-size", "the largest frame read or written, in bytes (suffixes K, M, G: KiB, MiB, GiB)")
	fs.Var(&o.maxBuffer, "max-buffer", "the bytes held for one connection (data not yet analyzed, results not yet written) before the analyzers holding the most fail; 0: 64M or twice the largest frame, -1: no limit")
	fs.IntVar(&o.maxAnalyzers, "max-analyzers", server.DefaultMaxAnalyzers, "the analyzers of one connection at most; -1: no limit")
	fs.DurationVar(&o.callTimeout, "call-timeout", server.DefaultCallTimeout, "how long one call into a plugin may take before its analyzer fails; -1s: no limit")
	fs.DurationVar(&o.idleTimeout, "idle-timeout", 0, "close a connection without analyzers after this long without a message; 0: never")
	fs.DurationVar(&o.writeTimeout, "write-timeout", conn.DefaultWriteTimeout, "close a connection whose client reads nothing for this long; -1s: never")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 10*time.Second, "on SIGINT or SIGTERM, how long to wait for the clients before closing their connections")
	fs.StringVar(&o.socketMode, "socket-mode", "0600", "the permission of UNIX sockets, in octal")
	fs.IntVar(&o.serealProtocol, "sereal-protocol", 0, "the Sereal protocol version written, 1 to 5 (default 3; Perl's Sereal::Encoder 5.x writes 5)")
	fs.BoolVar(&o.serealTail, "sereal-string-tail", false, "on the Sereal wire, write an integer that ends a document as its decimal string, so that Perl's Sereal::Decoder cannot misread a frame cut right after it (see docs/conformance.md)")
	fs.BoolVar(&o.listPlugins, "plugins", false, "list the plugins and their configuration keys, and exit")
	return func(ctx context.Context, e *env, args []string) error {
		if o.listPlugins {
			printPlugins(e)
			return nil
		}
		srv, addrs, err := o.server(e, args)
		if err != nil {
			return err
		}
		if e.Getenv("GOGC") == "" {
			debug.SetGCPercent(serveGCPercent)
		}
		return runServer(ctx, e, srv, addrs, o.shutdownTimeout)
	}
}

// printPlugins lists the registered plugins with their documentation.
func printPlugins(e *env) {
	for _, p := range imp.Plugins() {
		names := p.Name
		if len(p.Aliases) > 0 {
			names += " (" + strings.Join(p.Aliases, ", ") + ")"
		}
		fmt.Fprintf(e.Stdout, "%s\n", names)
		for _, line := range strings.Split(strings.TrimSpace(p.Doc), "\n") {
			fmt.Fprintf(e.Stdout, "    %s\n", line)
		}
	}
}

// server checks the whole command line and returns the server and the
// addresses, or a usage error listing every problem.
func (o *serveOpts) server(e *env, addrs []string) (*server.Server, []string, error) {
	if len(o.modules) == 0 {
		return nil, nil, usagef("no plugin named: name one with -M NAME[=CONFIG], for example\n  %s\n(imprpc serve --plugins lists the plugins)", servePluginExample)
	}
	var problems []string
	f, err := server.OpenPlugins(o.modules...)
	if err != nil {
		problems = append(problems, strings.Split(err.Error(), "\n")...)
	}
	format, err := conn.ParseFormat(o.impl)
	if err != nil {
		problems = append(problems, fmt.Sprintf("-I: %v", err))
	}
	wire := conn.Options{Format: format, MaxFrameSize: int(o.maxFrame), SerealProtocol: o.serealProtocol, SerealStringTail: o.serealTail}
	switch {
	case o.serealProtocol != 0 && (o.serealProtocol < 1 || o.serealProtocol > 5):
		problems = append(problems, fmt.Sprintf("--sereal-protocol: %d is not 1 to 5", o.serealProtocol))
	case o.maxFrame <= 0:
		problems = append(problems, "--max-frame-size: must be positive")
	default:
		if _, err := wire.Wire(); err != nil {
			problems = append(problems, err.Error())
		}
	}
	mode, err := strconv.ParseUint(o.socketMode, 8, 32)
	if err != nil || mode == 0 || mode > 0o777 {
		problems = append(problems, fmt.Sprintf("--socket-mode: %q is not a permission in octal such as 0600", o.socketMode))
	}
	if o.shutdownTimeout < 0 {
		problems = append(problems, "--shutdown-timeout: must not be negative")
	}
	var globs []string
	if o.debug.Given && o.debug.Value != "*" && o.debug.Value != "" {
		globs = strings.Split(o.debug.Value, ",")
	}
	level := slog.LevelInfo
	if o.debug.Given {
		level = slog.LevelDebug
	}
	h, err := server.DebugFilter(slog.NewTextHandler(e.Stderr, &slog.HandlerOptions{Level: level}), globs...)
	if err != nil {
		problems = append(problems, "-d: "+err.Error())
	}
	if len(problems) > 0 {
		return nil, nil, usagef("the configuration has problems:\n  %s", strings.Join(problems, "\n  "))
	}
	if len(addrs) == 0 {
		addrs = []string{defaultServeAddr}
	}
	return &server.Server{
		Factory:        f,
		Wire:           wire,
		MaxBuffered:    int64(o.maxBuffer),
		MaxAnalyzers:   o.maxAnalyzers,
		CallTimeout:    o.callTimeout,
		IdleTimeout:    o.idleTimeout,
		WriteTimeout:   o.writeTimeout,
		UnixSocketMode: os.FileMode(mode),
		Logger:         slog.New(h),
	}, addrs, nil
}

// runServer listens on every address (or on none, reporting every
// failure), serves until ctx ends, and shuts down gracefully.
func runServer(ctx context.Context, e *env, srv *server.Server, addrs []string, grace time.Duration) error {
	log := srv.Logger
	var ls []net.Listener
	var errs []error
	for _, a := range addrs {
		l, err := srv.Listen(a)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ls = append(ls, l)
	}
	if len(errs) > 0 {
		for _, l := range ls {
			l.Close()
		}
		return errors.Join(errs...)
	}
	failed := make(chan error, len(ls))
	var wg sync.WaitGroup
	for _, l := range ls {
		log.Info("imprpc serve: listening", "topic", "server.listen", "addr", listenName(l), "wire", srv.Wire.Format.String())
		wg.Go(func() {
			if err := srv.Serve(l); !errors.Is(err, server.ErrServerClosed) {
				failed <- err
			}
		})
	}
	var err error
	select {
	case <-ctx.Done():
		log.Info("imprpc serve: shutting down", "topic", "server.listen", "grace", grace)
		sctx, cancel := context.WithTimeout(context.Background(), grace)
		if serr := srv.Shutdown(sctx); serr != nil {
			log.Warn("imprpc serve: connections closed before their clients were done", "topic", "server.listen", "err", serr)
		}
		cancel()
	case err = <-failed:
		srv.Close()
	}
	wg.Wait()
	return err
}

// listenName names a listener's address for the log: host:port, or the
// socket path with "unix:".
func listenName(l net.Listener) string {
	a := l.Addr()
	if a.Network() == "unix" {
		return "unix:" + a.String()
	}
	return a.String()
}

// byteSize is a flag holding a number of bytes, with an optional suffix
// K, M or G (KiB, MiB, GiB; "KiB" and so on are accepted too).
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(s string) error {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSpace(s), "iB"), "B")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K', 'k':
			mult = 1 << 10
		case 'M', 'm':
			mult = 1 << 20
		case 'G', 'g':
			mult = 1 << 30
		}
		if mult > 1 {
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil || v > (1<<62)/mult || v < -(1<<62)/mult {
		return fmt.Errorf("%q is not a number of bytes (such as 65536, 64K, 16M)", s)
	}
	*b = byteSize(v * mult)
	return nil
}
