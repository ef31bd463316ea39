// Package perlproc runs the Perl fixture scripts of perl-fixtures/ for the
// conformance suites and talks to them over their line protocol: one JSON
// object per line to the script's stdin, one JSON object per line back
// from its stdout (the Perl side is ImpFixture::Loop).
//
// A suite starts a script once, in BeforeSuite, with [Start], sends
// requests with [Proc.Call] and stops it in AfterSuite with [Proc.Close].
// Requests name the script's handler in the field "op"; binary data
// travels as hex in fields named *_hex, Perl values as tagged JSON text in
// string fields. A reply {"error": "..."} becomes a *[ScriptError].
//
// [RepoRoot] and [SharedDir] find the module's root and the shared/
// directory beside it (golden vectors, specs); [HaveModule] tells whether
// Perl modules load, so that a suite can skip a tier with the reason.
package perlproc

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/goimp/imprpc/internal/repotest"
)

// FixturesDir is the directory of the Perl fixture scripts, relative to
// the repository root; its lib/ goes first on PERL5LIB.
const FixturesDir = "perl-fixtures"

// RepoRoot returns the directory that holds go.mod, found by walking up
// from the working directory (a test runs in its package's directory).
func RepoRoot() (string, error) { return repotest.Root() }

// SharedDir returns the directory shared/ beside the repository root
// (../shared as seen from the root), which holds the golden vectors and
// the specifications. When it is absent the error says why, for a
// visible Skip.
func SharedDir() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(filepath.Dir(root), "shared")
	fi, err := os.Stat(dir)
	switch {
	case err != nil:
		return "", fmt.Errorf("perlproc: no shared directory beside the repository root (%s): %w", dir, err)
	case !fi.IsDir():
		return "", fmt.Errorf("perlproc: %s beside the repository root is not a directory", dir)
	}
	return dir, nil
}

// Options configure [Start]. The zero value runs "perl" from PATH with
// the environment of the test process.
type Options struct {
	// Perl is the perl program; "" means "perl" found on PATH.
	Perl string
	// Args are the script's command-line arguments.
	Args []string
	// Lib lists directories that go on PERL5LIB after perl-fixtures/lib
	// and before what the environment has there (for instance the lib/
	// directories of upstream modules).
	Lib []string
	// Env holds more environment variables, "KEY=value", which override
	// the inherited ones.
	Env []string
	// Stderr, if not nil, gets a copy of everything the script writes to
	// its stderr (GinkgoWriter, os.Stderr). Errors carry its tail anyway.
	Stderr io.Writer
	// StopTimeout is how long Close waits for the script to exit after
	// its stdin is closed before it kills it; 0 means 10 seconds.
	StopTimeout time.Duration
}

// stderrTail is how much of the script's stderr errors quote.
const stderrTail = 4096

// Proc is a running fixture script. Its methods are safe for concurrent
// use; calls are served one at a time.
type Proc struct {
	name    string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	stderr  *tailBuffer
	lines   chan []byte   // reply lines from stdout
	exited  chan struct{} // closed once the process has exited and been waited for
	stopped chan struct{} // closed by Close: the reader drops what is left
	stopT   time.Duration

	waitErr error // set before exited is closed

	mu     sync.Mutex // serialises calls
	broken error      // set when the protocol can no longer be trusted

	closeOnce sync.Once
	closeErr  error
}

// Start runs the Perl script script (a path relative to perl-fixtures/,
// or an absolute path) with perl-fixtures/lib first on PERL5LIB. The
// script is expected to serve the line protocol until its stdin ends.
func Start(script string, opts Options) (*Proc, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	fixtures := filepath.Join(root, FixturesDir)
	path := script
	if !filepath.IsAbs(path) {
		path = filepath.Join(fixtures, script)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("perlproc: script %s: %w", script, err)
	}
	perl := opts.Perl
	if perl == "" {
		perl = "perl"
	}
	cmd := exec.Command(perl, append([]string{path}, opts.Args...)...)
	cmd.Dir = fixtures
	cmd.Env = environ(append([]string{filepath.Join(fixtures, "lib")}, opts.Lib...), opts.Env)
	p := &Proc{
		name:    filepath.Base(script),
		cmd:     cmd,
		stderr:  &tailBuffer{max: stderrTail, copyTo: opts.Stderr},
		lines:   make(chan []byte),
		exited:  make(chan struct{}),
		stopped: make(chan struct{}),
		stopT:   opts.StopTimeout,
	}
	if p.stopT <= 0 {
		p.stopT = 10 * time.Second
	}
	cmd.Stderr = p.stderr
	cmd.WaitDelay = time.Second
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("perlproc: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("perlproc: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("perlproc: starting %s: %w", p.name, err)
	}
	go p.read(stdout)
	return p, nil
}

// environ returns the process environment with lib prepended to PERL5LIB
// and extra applied on top.
func environ(lib, extra []string) []string {
	env := os.Environ()
	perl5lib := strings.Join(lib, string(os.PathListSeparator))
	if old := os.Getenv("PERL5LIB"); old != "" {
		perl5lib += string(os.PathListSeparator) + old
	}
	env = append(env, "PERL5LIB="+perl5lib)
	return append(env, extra...) // later entries win in os/exec
}

// read passes stdout line by line to Call until the script closes it,
// then waits for the process.
func (p *Proc) read(stdout io.Reader) {
	r := bufio.NewReaderSize(stdout, 64<<10)
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 && err == nil {
			select {
			case p.lines <- line:
			case <-p.stopped:
			}
		}
		if err != nil {
			break
		}
	}
	p.waitErr = p.cmd.Wait()
	close(p.exited)
}

// Call sends request as one JSON line and decodes the reply line into
// response (which may be nil to ignore it). A reply with an "error" field
// gives a *ScriptError. If ctx ends before the reply comes, the script is
// killed (a late reply would be taken for the next call's) and this and
// every later call fail.
func (p *Proc) Call(ctx context.Context, request, response any) error {
	line, err := json.Marshal(request)
	if err != nil {
		return fmt.Errorf("perlproc: %s: encoding request: %w", p.name, err)
	}
	line = append(line, '\n')

	p.mu.Lock()
	defer p.mu.Unlock()
	if p.broken != nil {
		return p.broken
	}
	written := make(chan error, 1)
	go func() {
		_, err := p.stdin.Write(line)
		written <- err
	}()
	var reply []byte
	select {
	case reply = <-p.lines:
		<-written // the script read the whole line before it replied
	case <-p.exited:
		<-written
		p.broken = p.failure(fmt.Errorf("exited (%v)", p.exitStatus()))
		return p.broken
	case <-ctx.Done():
		p.kill()
		<-written
		p.broken = p.failure(fmt.Errorf("killed after the call was abandoned: %w", ctx.Err()))
		return p.broken
	}
	var e struct {
		Error *string `json:"error"`
	}
	if err := json.Unmarshal(reply, &e); err != nil {
		p.broken = p.failure(fmt.Errorf("reply is not a JSON object: %w: %.200q", err, reply))
		return p.broken
	}
	if e.Error != nil {
		return &ScriptError{Script: p.name, Message: *e.Error, Stderr: p.stderr.settled()}
	}
	if response == nil {
		return nil
	}
	if err := json.Unmarshal(reply, response); err != nil {
		return fmt.Errorf("perlproc: %s: decoding reply: %w", p.name, err)
	}
	return nil
}

func (p *Proc) exitStatus() error {
	if p.waitErr == nil {
		return errors.New("exit status 0")
	}
	return p.waitErr
}

// failure wraps err as a *ProcessError with the tail of stderr.
func (p *Proc) failure(err error) error {
	return &ProcessError{Script: p.name, Err: err, Stderr: p.stderr.String()}
}

func (p *Proc) kill() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
	}
}

// Close ends the script: it closes its stdin, waits for it to exit (killing
// it after Options.StopTimeout) and returns an error if it did not exit
// cleanly. Close waits for every goroutine Proc started; calling it again
// returns the same result.
func (p *Proc) Close() error {
	p.closeOnce.Do(func() {
		close(p.stopped)
		_ = p.stdin.Close()
		timer := time.NewTimer(p.stopT)
		defer timer.Stop()
		select {
		case <-p.exited:
			if p.waitErr != nil {
				p.closeErr = p.failure(p.waitErr)
			}
		case <-timer.C:
			p.kill()
			<-p.exited
			p.closeErr = p.failure(fmt.Errorf("did not exit within %v of the end of its input; killed", p.stopT))
		}
		p.mu.Lock()
		if p.broken == nil {
			p.broken = p.failure(errors.New("closed"))
		}
		p.mu.Unlock()
	})
	return p.closeErr
}

// ScriptError is the reply {"error": ...} of a script: its handler died
// or the request was not understood. The process is still usable.
type ScriptError struct {
	Script  string // script file name
	Message string // the error text the script sent
	Stderr  string // tail of the script's stderr at the time
}

// Error implements error.
func (e *ScriptError) Error() string {
	return "perlproc: " + e.Script + ": " + e.Message + stderrSuffix(e.Stderr)
}

// ProcessError reports a script that cannot serve calls any more: it
// exited, was killed, or broke the protocol.
type ProcessError struct {
	Script string // script file name
	Err    error  // what happened
	Stderr string // tail of the script's stderr
}

// Error implements error.
func (e *ProcessError) Error() string {
	return "perlproc: " + e.Script + ": " + e.Err.Error() + stderrSuffix(e.Stderr)
}

// Unwrap returns the underlying error.
func (e *ProcessError) Unwrap() error { return e.Err }

func stderrSuffix(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	return "\nstderr (tail):\n" + s
}

// HaveModule reports whether perl can load every module in names (such as
// "Sereal::Decoder" or "Net::IMP::Remote"), with perl-fixtures/lib and
// the environment's PERL5LIB on the path. When one is missing, reason
// says which and why, for a visible Skip.
func HaveModule(names ...string) (ok bool, reason string) {
	return haveModule("perl", nil, names...)
}

// HaveModuleWith is HaveModule with options: Perl and Lib are honoured.
func HaveModuleWith(opts Options, names ...string) (ok bool, reason string) {
	return haveModule(opts.Perl, opts.Lib, names...)
}

func haveModule(perl string, lib []string, names ...string) (bool, string) {
	if perl == "" {
		perl = "perl"
	}
	if _, err := exec.LookPath(perl); err != nil {
		return false, fmt.Sprintf("perl is not available: %v", err)
	}
	if root, err := RepoRoot(); err == nil {
		lib = append([]string{filepath.Join(root, FixturesDir, "lib")}, lib...)
	}
	env := environ(lib, nil)
	for _, name := range names {
		cmd := exec.Command(perl, "-M"+name, "-e", "1")
		cmd.Env = env
		var out bytes.Buffer
		cmd.Stdout = &out
		cmd.Stderr = &out
		if err := cmd.Run(); err != nil {
			msg := strings.TrimSpace(out.String())
			if i := strings.IndexByte(msg, '\n'); i >= 0 {
				msg = msg[:i]
			}
			return false, fmt.Sprintf("Perl module %s does not load: %s", name, msg)
		}
	}
	return true, ""
}

// tailBuffer keeps the last max bytes written to it and copies
// everything to copyTo.
type tailBuffer struct {
	mu     sync.Mutex
	max    int
	buf    []byte
	copyTo io.Writer
	writes int // Write calls so far
}

// settleQuiet and settleMax bound how long settled waits for the script's
// last words: what it wrote to stderr just before a reply on stdout comes
// through a pipe of its own and may still be on its way.
const (
	settleQuiet = 20 * time.Millisecond
	settleMax   = 200 * time.Millisecond
)

// settled returns the tail once nothing more has been written for
// settleQuiet (at most settleMax).
func (t *tailBuffer) settled() string {
	deadline := time.Now().Add(settleMax)
	for {
		t.mu.Lock()
		n := t.writes
		t.mu.Unlock()
		time.Sleep(settleQuiet)
		t.mu.Lock()
		quiet := t.writes == n
		t.mu.Unlock()
		if quiet || time.Now().After(deadline) {
			return t.String()
		}
	}
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.writes++
	t.buf = append(t.buf, b...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	if t.copyTo != nil {
		_, _ = t.copyTo.Write(b)
	}
	return len(b), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
