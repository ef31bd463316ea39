package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/perl"
)

func TestServeRefusesToStartWithoutPlugin(t *testing.T) {
	code, _, stderr := runCmd(t, "", "serve", "127.0.0.1:0")
	if code != 2 {
		t.Errorf("exit status %d, want 2", code)
	}
	for _, want := range []string{"no plugin named", "-M NAME[=CONFIG]", servePluginExample, "--plugins"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

// Every problem of the command line is listed before anything starts.
func TestServeListsEveryProblem(t *testing.T) {
	code, _, stderr := runCmd(t, "", "serve", "-M", "pattern=string=x&action=deny", "-M", "nosuch=a=b",
		"--module", "Net::IMP::Pattern=rx=(a&rxlen=2&action=deny&actdata=", "-I", "json", "--socket-mode", "9", "-d=[", "127.0.0.1:0")
	if code != 2 {
		t.Errorf("exit status %d, want 2", code)
	}
	for _, want := range []string{"plugin pattern: pattern: action deny needs actdata", "plugin nosuch: unknown plugin", `rx "(a"`,
		`-I: conn: unknown wire format "json"`, "--socket-mode", "-d: server: bad debug glob", "usage: imprpc serve"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestServePlugins(t *testing.T) {
	code, stdout, _ := runCmd(t, "", "serve", "--plugins")
	if code != 0 {
		t.Fatalf("exit status %d", code)
	}
	for _, want := range []string{"pattern (Net::IMP::Pattern)", "cascade (Net::IMP::Cascade)", "testing:every_result (ImpFixture::Plugin::EveryResult)", "rxlen=N"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("--plugins lacks %q:\n%s", want, stdout)
		}
	}
}

func TestServeDefaultAddress(t *testing.T) {
	o := &serveOpts{modules: listFlag{"pattern=string=x&action=deny&actdata="}, impl: "storable", maxFrame: conn.DefaultMaxFrameSize, socketMode: "0600"}
	srv, addrs, err := o.server(&env{Stderr: &bytes.Buffer{}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(addrs) != 1 || addrs[0] != "127.0.0.1:2000" {
		t.Errorf("addresses %v, want 127.0.0.1:2000", addrs)
	}
	if srv.UnixSocketMode != 0o600 {
		t.Errorf("socket mode %v", srv.UnixSocketMode)
	}
}

func TestServeCannotListen(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	code, _, stderr := runCmd(t, "", "serve", "-M", "pattern=string=x&action=deny&actdata=", l.Addr().String(), "127.0.0.1:0")
	if code != 1 || !strings.Contains(stderr, "listen on "+l.Addr().String()) {
		t.Errorf("exit status %d, stderr:\n%s", code, stderr)
	}
}

// A server on TCP and a UNIX socket, with Perl's class name for the
// plugin and -I in Perl's spelling, serving until its context ends (as
// SIGINT or SIGTERM end it), with only the RPCs at debug level.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "imprpc.sock")
	stderr, err := os.Create(filepath.Join(dir, "stderr")) // safe for the server's goroutines
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	log := func() string {
		b, _ := os.ReadFile(stderr.Name())
		return string(b)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		e := &env{Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: stderr, Getenv: func(string) string { return "" }}
		done <- run(ctx, []string{"serve", "-M", "Net::IMP::Pattern=string=secret&action=deny&actdata=found it", "-I", "Sereal",
			"-d=rpc.*", "--shutdown-timeout", "5s", "127.0.0.1:0", sock}, e)
	}()
	listening := regexp.MustCompile(`msg="imprpc serve: listening" topic=server.listen addr=(\S+) wire=sereal`)
	var addrs [][]string
	deadline := time.Now().Add(10 * time.Second)
	for len(addrs) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the server did not log its addresses:\n%s", log())
		}
		time.Sleep(5 * time.Millisecond)
		addrs = listening.FindAllStringSubmatch(log(), -1)
	}
	if addrs[1][1] != "unix:"+sock {
		t.Errorf("second address %q, want unix:%s", addrs[1][1], sock)
	}
	for _, a := range []struct{ network, addr string }{{"tcp", addrs[0][1]}, {"unix", sock}} {
		c, got := serveClient(t, a.network, a.addr, conn.Options{Format: conn.Sereal})
		c.Send(&conn.NewAnalyzer{ID: 1, Context: (&imp.Meta{ClientAddr: "192.0.2.1"}).Context()})
		c.Send(&conn.Data{ID: 1, Type: imp.DataStream, Data: []byte("a secret")})
		for _, want := range []imp.ResultType{imp.ResultPass, imp.ResultDeny} {
			if r := nextResult(t, got); r.Result.Type != want {
				t.Errorf("%s: got %s, want %s", a.network, r.Result.Type, want)
			}
		}
		c.Close(nil)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit status %d", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not shut down")
	}
	out := log()
	for _, want := range []string{`rpc="[\"new_analyzer\",1,`, `rpc="[\"result\",1,\"deny\",0,\"found it\"]"`, "shutting down"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "connection accepted") {
		t.Errorf("-d=rpc.* shows other debug records:\n%s", out)
	}
}

// -I takes the wire's name in any case (imprpc_server.pl only as its
// class is spelled: -I Sereal).
func TestServeImplAnyCase(t *testing.T) {
	for impl, want := range map[string]conn.Format{"storable": conn.Storable, "Storable": conn.Storable, "STORABLE": conn.Storable,
		"sereal": conn.Sereal, "Sereal": conn.Sereal, "SEREAL": conn.Sereal} {
		o := &serveOpts{modules: listFlag{"pattern=string=x&action=deny&actdata="}, impl: impl, maxFrame: conn.DefaultMaxFrameSize, socketMode: "0600"}
		srv, _, err := o.server(&env{Stderr: &bytes.Buffer{}}, nil)
		if err != nil {
			t.Fatalf("-I %s: %v", impl, err)
		}
		if srv.Wire.Format != want {
			t.Errorf("-I %s: wire %v, want %v", impl, srv.Wire.Format, want)
		}
	}
}

// serveClient is a Go client of a served address; its results arrive on
// the channel.
func serveClient(t *testing.T, network, addr string, wire conn.Options) (*conn.Conn, chan conn.Message) {
	t.Helper()
	nc, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan conn.Message, 100)
	c, err := conn.Client(nc, conn.HandlerFunc(func(_ *conn.Conn, m conn.Message) error {
		got <- m
		return nil
	}), &conn.Config{Wire: wire})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(nil) })
	return c, got
}

// nextResult returns the next result a serveClient receives.
func nextResult(t *testing.T, got chan conn.Message) *conn.Result {
	t.Helper()
	select {
	case m := <-got:
		r, ok := m.(*conn.Result)
		if !ok {
			t.Fatalf("got %T, want a result", m)
		}
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("no result from the server")
		return nil
	}
}

// startServe runs imprpc serve with args on a UNIX socket and returns its
// path once it listens; the server is stopped, as by a signal, and its exit
// status checked when the test ends.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sock := filepath.Join(t.TempDir(), "s")
	done := make(chan int, 1)
	go func() {
		e := &env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
		done <- run(ctx, append(append([]string{"serve"}, args...), "--shutdown-timeout", "5s", sock), e)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("exit status %d", code)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if fi, err := os.Stat(sock); err == nil && fi.Mode().Type() == os.ModeSocket {
			return sock
		}
		if time.Now().After(deadline) {
			t.Fatal("the server did not listen")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Several -M run as a cascade, as with imprpc_server.pl: the second
// pattern sees the data the first one replaced, and denies it.
func TestServeSeveralPluginsCascade(t *testing.T) {
	sock := startServe(t, "-M", "pattern=string=secret&action=replace&actdata=public",
		"--module", "Net::IMP::Pattern=string=public&action=deny&actdata=denied by the second")
	c, got := serveClient(t, "unix", sock, conn.Options{})
	c.Send(&conn.NewAnalyzer{ID: 1})
	c.Send(&conn.Data{ID: 1, Type: imp.DataStream, Data: []byte("a secret")})
	for {
		r := nextResult(t, got)
		if r.Result.Type == imp.ResultDeny {
			if msg, _ := r.Result.Message(); msg != "denied by the second" {
				t.Errorf("deny(%q)", msg)
			}
			break
		}
	}
	c.Close(nil)
}

// The limits of the command line reach the server: --max-analyzers and
// --max-frame-size.
func TestServeLimits(t *testing.T) {
	sock := startServe(t, "-M", "pattern=string=secret&action=deny&actdata=x", "--max-analyzers", "1", "--max-frame-size", "1K")
	c, got := serveClient(t, "unix", sock, conn.Options{})
	c.Send(&conn.NewAnalyzer{ID: 1})
	c.Send(&conn.NewAnalyzer{ID: 2})
	select {
	case m := <-got:
		if e, ok := m.(*conn.Exception); !ok || e.ID != 2 || !strings.Contains(e.Text(), "too many analyzers on this connection (limit 1)") {
			t.Errorf("got %#v, want the exception of the analyzer limit", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no exception for the second analyzer")
	}
	c.Send(&conn.Data{ID: 1, Type: imp.DataStream, Data: bytes.Repeat([]byte{'.'}, 2000)})
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a frame larger than --max-frame-size did not close the connection")
	}
}

// --sereal-string-tail writes the offset that ends a result as a decimal
// string; without it the offset is an integer, as Perl writes it.
func TestServeSerealStringTail(t *testing.T) {
	for _, tail := range []bool{false, true} {
		args := []string{"-I", "sereal", "-M", "pattern=string=secret&action=deny&actdata=x"}
		if tail {
			args = append(args, "--sereal-string-tail")
		}
		sock := startServe(t, args...)
		c, got := serveClient(t, "unix", sock, conn.Options{Format: conn.Sereal})
		c.Send(&conn.NewAnalyzer{ID: 1})
		c.Send(&conn.Data{ID: 1, Type: imp.DataStream, Data: bytes.Repeat([]byte{'.'}, 40)})
		r := nextResult(t, got)
		args0 := r.Result.Args
		if len(args0) != 2 {
			t.Fatalf("tail %v: result %v, want pass(0, 35)", tail, r.Result)
		}
		var want perl.Value = perl.Int(35)
		if tail {
			want = perl.Bytes("35")
		}
		if !perl.Equal(args0[1], want) {
			t.Errorf("tail %v: offset %#v, want %#v", tail, args0[1], want)
		}
	}
}

// TestServeProcess is the imprpc process of TestServeSignals: it runs
// main with the arguments after "--" when IMPRPC_SERVE_PROCESS is set,
// and skips otherwise.
func TestServeProcess(t *testing.T) {
	if os.Getenv("IMPRPC_SERVE_PROCESS") == "" {
		t.Skip("the imprpc process that TestServeSignals starts; not a test of its own")
	}
	i := slices.Index(os.Args, "--")
	os.Args = append([]string{"imprpc"}, os.Args[i+1:]...)
	main()
}

// SIGTERM and SIGINT shut imprpc serve down gracefully: it stops
// accepting, still serves the analyzer a client has, and exits 0 once the
// client deleted it. Plain -d logs every RPC and the other debug records.
func TestServeSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestServeProcess$", "--",
				"serve", "-M", "pattern=string=secret&action=deny&actdata=found", "-d", "127.0.0.1:0")
			cmd.Env = append(os.Environ(), "IMPRPC_SERVE_PROCESS=1")
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			var log bytes.Buffer
			lines := make(chan string, 1000)
			go func() {
				sc := bufio.NewScanner(stderr)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
				exited <- cmd.Wait()
			}()
			t.Cleanup(func() { _ = cmd.Process.Kill() })
			// waitFor reads the log until a line contains s and returns it.
			waitFor := func(s string) string {
				t.Helper()
				timeout := time.After(10 * time.Second)
				for {
					select {
					case line, ok := <-lines:
						if !ok {
							t.Fatalf("the server ended before logging %q:\n%s", s, log.String())
						}
						log.WriteString(line + "\n")
						if strings.Contains(line, s) {
							return line
						}
					case <-timeout:
						t.Fatalf("the server did not log %q:\n%s", s, log.String())
					}
				}
			}
			addr := regexp.MustCompile(`addr=(\S+)`).FindStringSubmatch(waitFor("imprpc serve: listening"))[1]
			c, got := serveClient(t, "tcp", addr, conn.Options{})
			c.Send(&conn.NewAnalyzer{ID: 1})
			c.Send(&conn.Data{ID: 1, Type: imp.DataStream, Data: []byte("public ")})
			if r := nextResult(t, got); r.Result.Type != imp.ResultPass {
				t.Fatalf("got %s, want pass", r.Result.Type)
			}
			waitFor(`rpc="[\"result\",1,\"pass\"`)

			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			waitFor("imprpc serve: shutting down")
			deadline := time.Now().Add(10 * time.Second)
			for {
				nc, err := net.DialTimeout("tcp", addr, time.Second)
				if err != nil {
					break
				}
				nc.Close()
				if time.Now().After(deadline) {
					t.Fatal("the server still accepts connections after the signal")
				}
				time.Sleep(5 * time.Millisecond)
			}
			c.Send(&conn.Data{ID: 1, Type: imp.DataStream, Data: []byte("secret")})
			for r := nextResult(t, got); r.Result.Type != imp.ResultDeny; r = nextResult(t, got) {
				if r.Result.Type != imp.ResultPass {
					t.Fatalf("got %s after the signal, want pass or deny: the analyzer is served until it is deleted", r.Result.Type)
				}
			}
			select {
			case err := <-exited:
				t.Fatalf("the server exited before the client deleted its analyzer: %v\n%s", err, log.String())
			default:
			}
			c.Send(&conn.DeleteAnalyzer{ID: 1})
			timeout := time.After(10 * time.Second)
		drain:
			for {
				select {
				case line, ok := <-lines:
					if !ok {
						break drain
					}
					log.WriteString(line + "\n")
				case <-timeout:
					t.Fatalf("the server did not exit after the client deleted its analyzer:\n%s", log.String())
				}
			}
			if err := <-exited; err != nil {
				t.Errorf("the server exited with %v", err)
			}
			select {
			case <-c.Done():
			case <-time.After(5 * time.Second):
				t.Error("the connection is still open")
			}
			out := log.String()
			for _, want := range []string{`rpc="[\"new_analyzer\",1,`, `rpc="[\"data\",1,0,0,`, "connection accepted"} {
				if !strings.Contains(out, want) {
					t.Errorf("-d: the log lacks %s:\n%s", want, out)
				}
			}
		})
	}
}
