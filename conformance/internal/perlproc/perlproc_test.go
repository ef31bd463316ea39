package perlproc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func startServe(t *testing.T, opts Options) *Proc {
	t.Helper()
	if ok, reason := HaveModule("JSON::PP"); !ok {
		t.Skip(reason)
	}
	script, err := filepath.Abs(filepath.Join("testdata", "serve.pl"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Start(script, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func TestRepoRoot(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(mod, []byte("module github.com/goimp/imprpc")) {
		t.Errorf("RepoRoot() = %s, whose go.mod is not the module's", root)
	}
	if _, err := os.Stat(filepath.Join(root, FixturesDir, "lib", "ImpFixture", "Loop.pm")); err != nil {
		t.Errorf("fixtures not found below the root: %v", err)
	}
}

func TestSharedDir(t *testing.T) {
	dir, err := SharedDir()
	if err != nil {
		if !strings.Contains(err.Error(), "shared") {
			t.Errorf("error does not name the missing directory: %v", err)
		}
		t.Skip(err)
	}
	root, _ := RepoRoot()
	if want := filepath.Join(filepath.Dir(root), "shared"); dir != want {
		t.Errorf("SharedDir() = %s, want %s", dir, want)
	}
}

func TestCallRoundTrip(t *testing.T) {
	p := startServe(t, Options{})
	type payload struct {
		Op    string  `json:"op"`
		Text  string  `json:"text"`
		Num   int64   `json:"num"`
		Float float64 `json:"float"`
	}
	req := payload{Op: "echo", Text: "caf\u00e9 \u263a \U0001F600 \"quoted\"\n", Num: -1 << 53, Float: 0.1}
	var resp struct {
		Echo payload `json:"echo"`
	}
	if err := p.Call(context.Background(), req, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Echo != req {
		t.Errorf("echo = %+v, want %+v", resp.Echo, req)
	}
}

func TestCallNilResponse(t *testing.T) {
	p := startServe(t, Options{})
	if err := p.Call(context.Background(), map[string]string{"op": "echo"}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestScriptError(t *testing.T) {
	p := startServe(t, Options{})
	err := p.Call(context.Background(), map[string]string{"op": "fail"}, nil)
	var se *ScriptError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *ScriptError", err, err)
	}
	if se.Message != "failing as asked" {
		t.Errorf("Message = %q", se.Message)
	}
	if !strings.Contains(err.Error(), "about to fail") {
		t.Errorf("error does not carry the stderr tail: %v", err)
	}
	// The process serves on after a handler died.
	var resp struct{ Echo map[string]string }
	if err := p.Call(context.Background(), map[string]string{"op": "echo", "x": "y"}, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Echo["x"] != "y" {
		t.Errorf("echo after error = %v", resp.Echo)
	}
}

func TestUnknownOp(t *testing.T) {
	p := startServe(t, Options{})
	err := p.Call(context.Background(), map[string]string{"op": "no_such_op"}, nil)
	var se *ScriptError
	if !errors.As(err, &se) || !strings.Contains(se.Message, `unknown op "no_such_op"`) {
		t.Fatalf("error = %v", err)
	}
	err = p.Call(context.Background(), []int{1}, nil)
	if !errors.As(err, &se) || !strings.Contains(se.Message, "not a JSON object") {
		t.Fatalf("error = %v", err)
	}
}

func TestStrayOutputGoesToStderr(t *testing.T) {
	var stderr syncBuffer
	p := startServe(t, Options{Stderr: &stderr})
	var resp struct{ OK int }
	if err := p.Call(context.Background(), map[string]string{"op": "stray"}, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.OK != 1 {
		t.Errorf("reply = %+v", resp)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "stray output") {
		t.Errorf("stderr copy = %q, want the stray print", stderr.String())
	}
}

func TestLargeHexPayload(t *testing.T) {
	p := startServe(t, Options{})
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	var resp struct {
		Length      int    `json:"length"`
		ReversedHex string `json:"reversed_hex"`
	}
	req := map[string]string{"op": "reverse", "data_hex": fmt.Sprintf("%x", data)}
	if err := p.Call(context.Background(), req, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Length != len(data) {
		t.Fatalf("length = %d", resp.Length)
	}
	rev := make([]byte, len(data))
	for i, b := range data {
		rev[len(data)-1-i] = b
	}
	if resp.ReversedHex != fmt.Sprintf("%x", rev) {
		t.Error("reversed payload differs")
	}
}

func TestConcurrentCalls(t *testing.T) {
	p := startServe(t, Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				want := fmt.Sprintf("g%d-i%d", g, i)
				var resp struct{ Echo map[string]string }
				if err := p.Call(context.Background(), map[string]string{"op": "echo", "id": want}, &resp); err != nil {
					errs <- err
					return
				}
				if resp.Echo["id"] != want {
					errs <- fmt.Errorf("reply %q for request %q", resp.Echo["id"], want)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestContextEndsCall(t *testing.T) {
	p := startServe(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := p.Call(ctx, map[string]any{"op": "sleep", "seconds": 60}, nil)
	var pe *ProcessError
	if !errors.As(err, &pe) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v (%T), want a *ProcessError wrapping DeadlineExceeded", err, err)
	}
	if err := p.Call(context.Background(), map[string]string{"op": "echo"}, nil); !errors.As(err, &pe) {
		t.Errorf("call after an abandoned call: %v, want a *ProcessError", err)
	}
	if err := p.Close(); err == nil {
		t.Error("Close of a killed script reported a clean exit")
	}
}

func TestScriptExits(t *testing.T) {
	p := startServe(t, Options{})
	err := p.Call(context.Background(), map[string]any{"op": "exit", "status": 3}, nil)
	var pe *ProcessError
	if !errors.As(err, &pe) {
		t.Fatalf("error = %v (%T), want a *ProcessError", err, err)
	}
	for _, want := range []string{"exit status 3", "exiting as asked"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if err := p.Close(); err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("Close() = %v, want the exit status", err)
	}
}

func TestBrokenScript(t *testing.T) {
	if ok, reason := HaveModule("JSON::PP"); !ok {
		t.Skip(reason)
	}
	script, _ := filepath.Abs(filepath.Join("testdata", "broken.pl"))
	p, err := Start(script, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	err = p.Call(context.Background(), map[string]string{"op": "echo"}, nil)
	if err == nil || !strings.Contains(err.Error(), "cannot start: missing something") {
		t.Errorf("error = %v, want the script's stderr", err)
	}
}

func TestStartMissingScript(t *testing.T) {
	if _, err := Start("no-such-script.pl", Options{}); err == nil || !strings.Contains(err.Error(), "no-such-script.pl") {
		t.Errorf("Start of a missing script: %v", err)
	}
}

func TestEnvironment(t *testing.T) {
	t.Setenv("PERL5LIB", "/outer/lib")
	p := startServe(t, Options{Lib: []string{"/extra/lib"}, Env: []string{"PERLPROC_TEST=set"}})
	var resp struct {
		Perl5lib string `json:"perl5lib"`
		Value    string `json:"value"`
	}
	if err := p.Call(context.Background(), map[string]string{"op": "env", "name": "PERLPROC_TEST"}, &resp); err != nil {
		t.Fatal(err)
	}
	root, _ := RepoRoot()
	sep := string(os.PathListSeparator)
	want := filepath.Join(root, FixturesDir, "lib") + sep + "/extra/lib" + sep + "/outer/lib"
	if resp.Perl5lib != want {
		t.Errorf("PERL5LIB = %q, want %q", resp.Perl5lib, want)
	}
	if resp.Value != "set" {
		t.Errorf("PERLPROC_TEST = %q", resp.Value)
	}
}

func TestCloseTwice(t *testing.T) {
	p := startServe(t, Options{})
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close() = %v", err)
	}
	if err := p.Call(context.Background(), map[string]string{"op": "echo"}, nil); err == nil {
		t.Error("Call after Close succeeded")
	}
}

func TestNoGoroutinesLeft(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 3 {
		p := startServe(t, Options{})
		if err := p.Call(context.Background(), map[string]string{"op": "echo"}, nil); err != nil {
			t.Fatal(err)
		}
		_ = p.Call(context.Background(), map[string]string{"op": "fail"}, nil)
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// A goroutine that has closed its last channel may still be returning.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		runtime.Gosched()
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines before, %d after Close:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

func TestHaveModule(t *testing.T) {
	if ok, reason := HaveModule("JSON::PP", "ImpFixture::Loop", "ImpFixture::TaggedJSON"); !ok {
		t.Fatalf("core and fixture modules do not load: %s", reason)
	}
	ok, reason := HaveModule("JSON::PP", "No::Such::Module::Here")
	if ok || !strings.Contains(reason, "No::Such::Module::Here") {
		t.Errorf("HaveModule(missing) = %v, %q", ok, reason)
	}
	ok, reason = HaveModuleWith(Options{Perl: "no-such-perl-binary"}, "JSON::PP")
	if ok || !strings.Contains(reason, "perl is not available") {
		t.Errorf("HaveModuleWith(no perl) = %v, %q", ok, reason)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
