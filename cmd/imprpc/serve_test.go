package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
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
		nc, err := net.Dial(a.network, a.addr)
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan conn.Message, 10)
		c, err := conn.Client(nc, conn.HandlerFunc(func(_ *conn.Conn, m conn.Message) error {
			got <- m
			return nil
		}), &conn.Config{Wire: conn.Options{Format: conn.Sereal}})
		if err != nil {
			t.Fatal(err)
		}
		c.Send(&conn.NewAnalyzer{ID: 1, Context: (&imp.Meta{ClientAddr: "192.0.2.1"}).Context()})
		c.Send(&conn.Data{ID: 1, Type: imp.DataStream, Data: []byte("a secret")})
		for _, want := range []imp.ResultType{imp.ResultPass, imp.ResultDeny} {
			select {
			case m := <-got:
				if r, ok := m.(*conn.Result); !ok || r.Result.Type != want {
					t.Errorf("%s: got %v, want %s", a.network, m, want)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("%s: no %s", a.network, want)
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
