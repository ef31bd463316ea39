package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/goimp/imprpc/conformance/check"
	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/server"
)

// conformingServer serves the pattern plugin with package server on
// loopback TCP for the test.
func conformingServer(t *testing.T, wire conn.Format) string {
	t.Helper()
	f, err := server.OpenPlugins("pattern=string=secret&action=deny&actdata=denied")
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &server.Server{Factory: f, Wire: conn.Options{Format: wire}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return l.Addr().String()
}

// hangUpServer accepts connections and closes them at once.
func hangUpServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
	})
	return l.Addr().String()
}

// lines splits output into its lines.
func lines(s string) []string {
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// passConforming runs "imprpc conformance FLAGS ADDR" against a
// conforming server on wire, requires exit status 0 and a line per check
// plus the summary, and returns the lines.
func passConforming(t *testing.T, wire conn.Format, flags ...string) []string {
	t.Helper()
	addr := conformingServer(t, wire)
	code, stdout, stderr := runCmd(t, "", append(append([]string{"conformance"}, flags...), addr)...)
	if code != 0 {
		t.Fatalf("exit status %d, want 0; stdout:\n%s\nstderr: %s", code, stdout, stderr)
	}
	got := lines(stdout)
	if want := len(check.Checks()) + 1; len(got) != want {
		t.Fatalf("%d lines, want %d:\n%s", len(got), want, stdout)
	}
	return got
}

func TestConformanceUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		inStderr string
	}{
		{"no address", []string{"conformance"}, "give one ADDR"},
		{"two addresses", []string{"conformance", "a:1", "b:2"}, "give one ADDR"},
		{"unknown wire", []string{"conformance", "-I", "json", "a:1"}, "-I: conn: unknown wire format"},
		{"zero timeout", []string{"conformance", "--timeout", "0s", "a:1"}, "--timeout must be positive"},
		{"unknown flag", []string{"conformance", "--frobnicate", "a:1"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, "", tt.args...)
			if code != 2 {
				t.Errorf("exit status %d, want 2 (stderr %q)", code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if !strings.Contains(stderr, tt.inStderr) {
				t.Errorf("stderr %q does not contain %q", stderr, tt.inStderr)
			}
		})
	}
}

// A conforming server: one PASS line per check, in order, then the
// summary; exit status 0.
func TestConformanceText(t *testing.T) {
	got := passConforming(t, conn.Storable)
	checks := check.Checks()
	for i, c := range checks {
		if got[i] != "PASS "+c.Name && !strings.HasPrefix(got[i], "PASS "+c.Name+": ") {
			t.Errorf("line %d is %q, want PASS %s", i+1, got[i], c.Name)
		}
	}
	want := "conformance: 17 passed, 0 failed, 0 warnings, 0 not applicable"
	if last := got[len(got)-1]; last != want {
		t.Errorf("last line %q, want %q", last, want)
	}
}

// --json: one object per check with its name and status, then the counts.
func TestConformanceJSON(t *testing.T) {
	got := passConforming(t, conn.Sereal, "-I", "Sereal", "--json")
	checks := check.Checks()
	for i, c := range checks {
		var r map[string]any
		if err := json.Unmarshal([]byte(got[i]), &r); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, got[i])
		}
		if r["check"] != c.Name || r["status"] != "PASS" || r["expected"] != nil || r["got"] != nil {
			t.Errorf("line %d is %s, want check %q with status PASS", i+1, got[i], c.Name)
		}
	}
	var sum map[string]int
	if err := json.Unmarshal([]byte(got[len(got)-1]), &sum); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"passed": 17, "failed": 0, "warnings": 0, "not_applicable": 0}
	if len(sum) != len(want) {
		t.Errorf("summary %v, want %v", sum, want)
	}
	for k, v := range want {
		if sum[k] != v {
			t.Errorf("summary %v, want %v", sum, want)
		}
	}
}

// Servers that fail: FAIL lines with what was expected and what came,
// N/A where a check cannot apply, exit status 1, nothing on stderr.
func TestConformanceFailures(t *testing.T) {
	refused := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return addr
	}()
	tests := []struct {
		name      string
		addr      string
		json      bool
		firstLine string
		lastLine  string
	}{
		{
			name:      "hangs up at once",
			addr:      hangUpServer(t),
			firstLine: "FAIL handshake/set-version: expected set_version(1) as the server's first frame; got the connection closed",
			lastLine:  "conformance: 0 passed, 16 failed, 0 warnings, 1 not applicable",
		},
		{
			name:      "refuses connections",
			addr:      refused,
			firstLine: "FAIL handshake/set-version: expected a connection to " + refused + "; got dial tcp " + refused + ": connect: connection refused",
			lastLine:  "conformance: 0 passed, 16 failed, 0 warnings, 1 not applicable",
		},
		{
			name:      "hangs up at once, JSON",
			addr:      hangUpServer(t),
			json:      true,
			firstLine: `{"check":"handshake/set-version","status":"FAIL","expected":"set_version(1) as the server's first frame","got":"the connection closed"}`,
			lastLine:  `{"passed":0,"failed":16,"warnings":0,"not_applicable":1}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"conformance", "--timeout", "200ms", tt.addr}
			if tt.json {
				args = append(args[:1], append([]string{"--json"}, args[1:]...)...)
			}
			code, stdout, stderr := runCmd(t, "", args...)
			if code != 1 {
				t.Errorf("exit status %d, want 1", code)
			}
			if stderr != "" {
				t.Errorf("stderr %q, want nothing", stderr)
			}
			got := lines(stdout)
			if got[0] != tt.firstLine {
				t.Errorf("first line\n%s\nwant\n%s", got[0], tt.firstLine)
			}
			if got[len(got)-1] != tt.lastLine {
				t.Errorf("last line\n%s\nwant\n%s", got[len(got)-1], tt.lastLine)
			}
			if want := "N/A handshake/version: the server sent no set_version"; !tt.json && got[1] != want {
				t.Errorf("second line %q, want %q", got[1], want)
			}
		})
	}
}
