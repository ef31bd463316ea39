// Package live is the live tier of the conformance suites: the specs
// that need the real Perl modules (Net::IMP, Net::IMP::Remote, AnyEvent)
// and Perl's own IMP RPC server, imprpc_server.pl.
//
// [Need] is the one gate every suite puts in front of such a spec: it
// skips the spec with the reason, or fails it when the environment
// variable IMPRPC_REQUIRE_LIVE is "1" (CI, where the tier must run).
// [HaveServer] tells whether imprpc_server.pl can run here and why not;
// [StartServer] runs it on loopback TCP for a suite.
//
// imprpc_server.pl is found on PATH (installed from CPAN) or in the bin/
// directory beside the lib/ that Net::IMP::Remote loads from (a checkout
// or an unpacked distribution on PERL5LIB).
package live

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/goimp/imprpc/conformance/internal/harness"
	"github.com/goimp/imprpc/conformance/internal/perlproc"
	"github.com/goimp/imprpc/conn"
)

// RequireEnv is the environment variable that, set to "1", makes a
// missing live tier fail instead of skip.
const RequireEnv = "IMPRPC_REQUIRE_LIVE"

// Required reports whether the live tier must run (IMPRPC_REQUIRE_LIVE=1).
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// Need gates a spec of the live tier: when why is "" it returns and the
// spec runs; otherwise it skips the spec with "what: why", or fails it
// with that message when [Required]. what says what the tier needs, why
// what is missing here.
func Need(what, why string) {
	ginkgo.GinkgoHelper()
	if why == "" {
		return
	}
	msg := what + ": " + why
	if Required() {
		ginkgo.Fail(msg + " (" + RequireEnv + "=1)")
	}
	ginkgo.Skip(msg)
}

// serverScriptName is the file name of Perl's IMP RPC server.
const serverScriptName = "imprpc_server.pl"

// findScript caches ServerScript: neither PATH nor PERL5LIB changes
// while a suite runs.
var findScript = sync.OnceValues(func() (string, error) {
	if p, err := exec.LookPath(serverScriptName); err == nil {
		return p, nil
	}
	notFound := fmt.Errorf("%s is neither on PATH nor beside Net::IMP::Remote's lib/", serverScriptName)
	cmd := exec.Command("perl", "-MNet::IMP::Remote", "-e", `print $INC{"Net/IMP/Remote.pm"}`)
	cmd.Env = perlEnv()
	out, err := cmd.Output()
	if err != nil {
		return "", notFound
	}
	// .../lib/Net/IMP/Remote.pm -> .../bin/imprpc_server.pl
	p := filepath.Join(filepath.Dir(string(out)), "..", "..", "..", "bin", serverScriptName)
	if _, err := os.Stat(p); err != nil {
		return "", notFound
	}
	return p, nil
})

// ServerScript returns the path of imprpc_server.pl, or an error saying
// where it was looked for.
func ServerScript() (string, error) { return findScript() }

// HaveServer reports whether imprpc_server.pl can run here: every module
// in modules loads (see [perlproc.HaveModule]) and the script is found.
// When it cannot, reason says why, for [Need].
func HaveServer(modules ...string) (ok bool, reason string) {
	if ok, why := perlproc.HaveModule(modules...); !ok {
		return false, why
	}
	if _, err := ServerScript(); err != nil {
		return false, err.Error()
	}
	return true, ""
}

// Impl names a wire as imprpc_server.pl's -I and Net::IMP::Remote's impl
// want it: "Storable" or "Sereal".
func Impl(w conn.Format) string {
	if w == conn.Sereal {
		return "Sereal"
	}
	return "Storable"
}

// perlEnv is the environment of imprpc_server.pl: perl-fixtures/lib
// (the fixture plugins), then the environment's PERL5LIB.
func perlEnv() []string {
	lib := os.Getenv("PERL5LIB")
	if root, err := perlproc.RepoRoot(); err == nil {
		lib = filepath.Join(root, perlproc.FixturesDir, "lib") + string(os.PathListSeparator) + lib
	}
	return append(os.Environ(), "PERL5LIB="+lib)
}

// ServerOptions configure [StartServer]. Specs must not be empty; the
// zero value of every other field is a safe default.
type ServerOptions struct {
	// Specs are the plugins, each a -M argument such as
	// "Net::IMP::Pattern=rx=secret&rxlen=6&action=replace&actdata=X";
	// several make a Net::IMP::Cascade.
	Specs []string
	// Wire is the wire format (-I); the zero value is Storable.
	Wire conn.Format
	// Addr is the loopback TCP address to listen on; "" means a port
	// that was free a moment before (see [harness.FreeAddr]).
	Addr string
	// Stderr, if not nil, gets what the server writes to its stderr.
	Stderr io.Writer
	// StartTimeout bounds the wait until the server takes connections;
	// 0 means 20 seconds.
	StartTimeout time.Duration
}

// Server is a running imprpc_server.pl. Its methods are safe for
// concurrent use.
type Server struct {
	opts ServerOptions
	addr string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
}

// StartServer runs imprpc_server.pl with opts and returns once it takes
// connections. The caller stops it with [Server.Stop].
func StartServer(opts ServerOptions) (*Server, error) {
	if len(opts.Specs) == 0 {
		return nil, fmt.Errorf("live: StartServer: no plugin spec")
	}
	s := &Server{opts: opts, addr: opts.Addr}
	if s.addr == "" {
		addr, err := harness.FreeAddr()
		if err != nil {
			return nil, err
		}
		s.addr = addr
	}
	if err := s.Start(); err != nil {
		return nil, err
	}
	return s, nil
}

// Addr returns the server's address, the same across restarts.
func (s *Server) Addr() string { return s.addr }

// Start runs the server again on its address after [Server.Stop] (a
// server that went away and came back) and returns once it takes
// connections. It does nothing while the server runs.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	script, err := ServerScript()
	if err != nil {
		return fmt.Errorf("live: %w", err)
	}
	args := []string{script}
	for _, spec := range s.opts.Specs {
		args = append(args, "-M", spec)
	}
	args = append(args, "-I", Impl(s.opts.Wire), s.addr)
	cmd := exec.Command("perl", args...)
	cmd.Env = perlEnv()
	cmd.Stderr = s.opts.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("live: starting %s: %w", serverScriptName, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.cmd, s.exited = cmd, exited

	timeout := s.opts.StartTimeout
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	ctx, cancel := context.WithTimeoutCause(context.Background(), timeout,
		fmt.Errorf("%s did not listen within %v", serverScriptName, timeout))
	defer cancel()
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	go func() {
		select {
		case <-exited:
			stop(fmt.Errorf("%s exited (%v)", serverScriptName, cmd.ProcessState))
		case <-ctx.Done():
		}
	}()
	if err := harness.WaitListening(ctx, "tcp", s.addr); err != nil {
		s.stopLocked()
		return fmt.Errorf("live: %s %s: %w", serverScriptName, strings.Join(s.opts.Specs, " "), err)
	}
	return nil
}

// Stop kills the server and waits for it to exit; its connections break
// and nobody listens on its address until [Server.Start]. It does
// nothing when the server is not running.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
}

func (s *Server) stopLocked() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd, s.exited = nil, nil
}
