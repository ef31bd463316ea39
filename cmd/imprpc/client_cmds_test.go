package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goimp/imprpc/client/clienttest"
	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
	_ "github.com/goimp/imprpc/plugin/testplugin"
)

// testServer serves the plugin spec on loopback TCP for the test.
func testServer(t *testing.T, spec string, wire conn.Format) string {
	t.Helper()
	fs, err := imp.Open(spec)
	if err != nil {
		t.Fatal(err)
	}
	s, err := clienttest.Listen("tcp", "127.0.0.1:0", clienttest.Config{Factory: fs[0], Wire: conn.Options{Format: wire}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s.Addr()
}

// writeFile writes data to a file of the test and returns its name.
func writeFile(t *testing.T, name, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAnalyzeUsage(t *testing.T) {
	f := writeFile(t, "d", "x")
	for _, args := range [][]string{
		{"analyze", "--dir0", f},
		{"analyze", "--remote", "127.0.0.1:1", "-M", "pattern", "--dir0", f},
		{"analyze", "-M", "testing:decline"},
		{"analyze", "-M", "testing:decline", "--dir0", f, "--chunk", "-1"},
		{"analyze", "-M", "testing:decline", "--dir0", f, "--type", "nonsense"},
		{"analyze", "-M", "testing:decline", "--dir0", f, "--ctx", "novalue"},
		{"analyze", "-M", "testing:decline", "--dir0", f, "extra"},
	} {
		if code, _, stderr := runCmd(t, "", args...); code != 2 || !strings.Contains(stderr, "usage: imprpc analyze") {
			t.Errorf("%q: status %d, stderr %q", args, code, stderr)
		}
	}
}

// Through a server and in-process, analyze prints the same lines, for
// every chunking, on both wires.
func TestAnalyzeRemoteLikeLocal(t *testing.T) {
	const spec = "pattern=string=secret&action=replace&actdata=XXXXXX"
	d0 := writeFile(t, "d0", "a secret, another secret and more secrets\n")
	d1 := writeFile(t, "d1", "no secret here? secret!\n")
	for _, wire := range []conn.Format{conn.Storable, conn.Sereal} {
		addr := testServer(t, spec, wire)
		for _, chunk := range []string{"0", "1", "2", "5", "100"} {
			args := []string{"--dir0", d0, "--dir1", d1, "--chunk", chunk}
			rc, remote, rerr := runCmd(t, "", append([]string{"analyze", "--remote", addr, "-I", wire.String()}, args...)...)
			lc, local, lerr := runCmd(t, "", append([]string{"analyze", "-M", spec}, args...)...)
			if rc != 0 || lc != 0 {
				t.Fatalf("status %d (%s) and %d (%s)", rc, rerr, lc, lerr)
			}
			if remote != local || !strings.Contains(local, `["replace",0,8,"XXXXXX"]`) {
				t.Errorf("%s chunk %s: remote\n%s\nlocal\n%s", wire, chunk, remote, local)
			}
		}
	}
}

// The context is {meta => {...}} from --ctx, integers as integers; after
// a deny nothing more is sent; a declined analyzer exits 0.
func TestAnalyzeContextDenyDecline(t *testing.T) {
	d0 := writeFile(t, "d0", "x")
	_, out, _ := runCmd(t, "", "analyze", "-M", "testing:echo_context", "--ctx", "caddr=192.0.2.10", "--ctx", "cport=40001", "--ctx", "lport=03000", "--dir0", d0)
	want := `["acctfield","meta.caddr","192.0.2.10"]
["acctfield","meta.cport",40001]
["acctfield","meta.lport","03000"]
["pass",0,-1]
["pass",1,-1]
`
	if out != want {
		t.Errorf("echo_context:\n%s\nwant\n%s", out, want)
	}
	addr := testServer(t, "testing:every_result", conn.Storable)
	deny := writeFile(t, "deny", "log deny log")
	for _, args := range [][]string{{"--remote", addr}, {"-M", "testing:every_result"}} {
		code, out, stderr := runCmd(t, "", append([]string{"analyze", "--chunk", "4", "--dir0", deny}, args...)...)
		// chunks "log ", "deny", " log": nothing after the deny
		if code != 0 || out != `["log",0,0,4,"info","log message"]`+"\n"+`["deny",0,"denied"]`+"\n" {
			t.Errorf("%v: status %d, %q, %s", args, code, out, stderr)
		}
	}
	for _, args := range [][]string{{"--remote", testServer(t, "testing:decline", conn.Storable)}, {"-M", "testing:decline"}} {
		code, out, _ := runCmd(t, "", append([]string{"analyze", "--dir0", d0}, args...)...)
		if code != 0 || out != "[\"pass\",0,-1]\n[\"pass\",1,-1]\n" {
			t.Errorf("%v: status %d, %q", args, code, out)
		}
	}
}

func TestProbe(t *testing.T) {
	addr := testServer(t, "testing:every_result=results=pass,deny", conn.Sereal)
	code, out, stderr := runCmd(t, "", "probe", "-I", "sereal", addr)
	if code != 0 {
		t.Fatalf("status %d: %s", code, stderr)
	}
	var r probeReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if !r.OK || len(r.Interfaces) != 1 || string(r.Interfaces[0]) != `[null,["pass","deny"]]` || r.Wire != "sereal" {
		t.Errorf("%s", out)
	}
	// A plugin with no interface is no healthy server.
	s, err := clienttest.Listen("tcp", "127.0.0.1:0", clienttest.Config{Factory: imp.NewFactory(nil, nil)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	code, out, stderr = runCmd(t, "", "probe", s.Addr())
	if code != 1 || !strings.Contains(out, `"ok":false`) || !strings.Contains(stderr, "supports no interface") {
		t.Errorf("status %d, %s, %s", code, out, stderr)
	}
	if code, _, _ := runCmd(t, "", "probe"); code != 2 {
		t.Errorf("no ADDR: status %d", code)
	}
}

func TestBench(t *testing.T) {
	addr := testServer(t, "testing:every_result", conn.Storable)
	code, out, stderr := runCmd(t, "", "bench", "--remote", addr, "--analyzers", "3", "--window", "2", "--chunk", "64", "--messages", "300")
	if code != 0 || stderr != "" {
		t.Fatalf("status %d, stderr %q", code, stderr)
	}
	var r benchReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Messages < 300 || r.Results != r.Messages || r.Errors != 0 || r.Chunk != 64 || r.Analyzers != 3 || r.P50US <= 0 || r.P99US > r.MaxUS || r.MessagesPerS <= 0 {
		t.Errorf("%+v", r)
	}
	// A plugin that answers nothing, or declines: every analyzer is an
	// error.
	for _, spec := range []string{"testing:every_result=results=log", "testing:decline"} {
		silent := testServer(t, spec, conn.Storable)
		code, out, _ = runCmd(t, "", "bench", "--remote", silent, "--analyzers", "2", "--duration", "100ms", "--timeout", "100ms")
		if code != 0 || !strings.HasSuffix(out, `"errors":2}`+"\n") {
			t.Errorf("%s: status %d, %s", spec, code, out)
		}
	}
	for _, args := range [][]string{{"bench"}, {"bench", "--remote", addr, "--chunk", "4"}, {"bench", "--remote", addr, "--window", "0"}} {
		if code, _, _ := runCmd(t, "", args...); code != 2 {
			t.Errorf("%q: status %d", args, code)
		}
	}
}

// The histogram's quantiles are within its bucket width of the exact
// ones.
func TestHistogram(t *testing.T) {
	var h histogram
	var vals []time.Duration
	for i := 1; i <= 10000; i++ {
		d := time.Duration(i*i) * time.Nanosecond
		vals = append(vals, d)
		h.add(d)
	}
	for _, q := range []float64{0.5, 0.9, 0.99} {
		exact := float64(vals[int(math.Ceil(q*float64(len(vals))))-1])
		if got := h.quantile(q); math.Abs(got-exact)/exact > 0.04 {
			t.Errorf("q%v: %v, exact %v", q, got, exact)
		}
	}
	if h.max.Load() != int64(vals[len(vals)-1]) {
		t.Errorf("max %d", h.max.Load())
	}
	for v := uint64(0); v < 1<<20; v += 7 {
		b := histBucket(v)
		if lo, hi := histLow(b), histLow(b+1); float64(v) < lo || float64(v) >= hi {
			t.Fatalf("%d in bucket %d [%v, %v)", v, b, lo, hi)
		}
	}
	var empty histogram
	if empty.quantile(0.5) != 0 {
		t.Error("empty histogram")
	}
}
