package main

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/goimp/imprpc/conn/conntest"
	"github.com/goimp/imprpc/perl/taggedjson"
)

// vectorBytes returns the frame of a golden vector on wire w.
func vectorBytes(t *testing.T, name, w string) []byte {
	t.Helper()
	vs, err := conntest.Vectors()
	if err != nil {
		t.Skip("golden vectors: ", err)
	}
	for _, v := range vs {
		if v.Name == name {
			return v.Frame(w)
		}
	}
	t.Fatalf("no golden vector %s", name)
	return nil
}

func goldenStream(t *testing.T, name string) conntest.Stream {
	t.Helper()
	ss, err := conntest.Streams()
	if err != nil {
		t.Skip("golden streams: ", err)
	}
	for _, s := range ss {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no golden stream %s", name)
	return conntest.Stream{}
}

func sameLines(t *testing.T, got string, want ...string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), got)
	}
	for i := range want {
		if eq, err := taggedjson.Equal([]byte(lines[i]), []byte(want[i])); err != nil || !eq {
			t.Errorf("line %d: %s\n               want %s (%v)", i+1, lines[i], want[i], err)
		}
	}
}

// The RPCs the real Perl server sent to the real Perl client, on both
// wires.
func TestFramesCapturedServer(t *testing.T) {
	for _, w := range []string{"storable", "sereal"} {
		t.Run(w, func(t *testing.T) {
			s := goldenStream(t, w+"_captured_server_to_client")
			code, stdout, stderr := runCmd(t, string(s.Bytes()), "frames", "-I", w)
			if code != 0 || stderr != "" {
				t.Fatalf("status %d, stderr %q", code, stderr)
			}
			sameLines(t, stdout,
				`["set_version",1]`,
				`["interface",["imp.data.stream",["pass","prepass","deny","replace","tosender","log","acctfield","pause","continue","fatal"]]]`,
				`["result",1,"pass",1,-1]`,
				`["result",1,"pass",0,21]`,
				`["result",1,"pass",0,35]`,
				`["result",1,"deny",0,"found secret"]`)
		})
	}
}

// Single golden RPCs show as the issue describes: numbers where Storable
// sent decimal strings, names for dualvars, integers for unknown ones,
// interfaces as the wire holds them.
func TestFramesShapes(t *testing.T) {
	tests := []struct{ vector, want string }{
		{"data_offset_4294967296", `["data",1,0,4294967296,"imp.data.stream","x"]`},
		{"data_offset_undef", `["data",1,0,null,"imp.data.stream","hello world"]`},
		{"data_http_body", `["data",1,1,0,-5242882,"<html></html>"]`},
		{"delete_analyzer_id_2147483648", `["delete_analyzer",2147483648]`},
		{"get_interface_several", `["get_interface",["imp.data.stream",["pass","prepass","replace","deny"]],["imp.data.packet",["pass","deny","drop"]],[null,["pass","deny"]],["imp.data.stream"],[null]]`},
		{"set_interface_undef_results", `["set_interface",["imp.data.stream",[]]]`},
		{"result_log_info", `["result",1,"log",0,0,10,"info","message at level info"]`},
		{"result_log_unknown_level", `["result",1,"log",0,0,1,9,"x"]`},
		{"result_unknown_result_type", `["result",1,39321,0,5]`},
		{"result_replace_later_big", `["result",1,"replace_later",1,4294967296,1099511627776]`},
		{"result_pass_pattern_regexp_flags", `["result",1,"pass_pattern",1,{"$regexp":"^end\\s*$","$flags":"mi"},16]`},
		{"result_acctfield_double", `["result",1,"acctfield","duration","0.1"]`},
		{"exception_message_only", `["exception","exceptional exception"]`},
		{"unknown_op", `[18841,1,"x"]`},
	}
	for _, tt := range tests {
		t.Run(tt.vector, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, string(vectorBytes(t, tt.vector, "storable")), "frames")
			if code != 0 {
				t.Fatalf("status %d: %s", code, stderr)
			}
			sameLines(t, stdout, tt.want)
		})
	}
}

// frames --encode writes back the bytes the JSON lines came from: every
// golden stream without a multi-key hash, on Storable, and on Sereal with
// protocol 5. (Tagged JSON shows hash keys sorted, so a new_analyzer
// context in Perl's random key order comes back sorted.)
func TestFramesEncodeRoundTrip(t *testing.T) {
	ss, err := conntest.Streams()
	if err != nil {
		t.Skip("golden streams: ", err)
	}
	for _, s := range ss {
		t.Run(s.Name, func(t *testing.T) {
			code, lines, stderr := runCmd(t, string(s.Bytes()), "frames", "-I", s.Wire)
			if code != 0 {
				t.Fatalf("frames: status %d: %s", code, stderr)
			}
			args := []string{"frames", "--encode", "-I", s.Wire}
			if s.Wire == "sereal" {
				args = append(args, "--sereal-protocol", "5")
			}
			code, out, stderr := runCmd(t, lines, args...)
			if code != 0 {
				t.Fatalf("frames --encode: status %d: %s", code, stderr)
			}
			if out != string(s.Bytes()) && !strings.Contains(lines, `"new_analyzer"`) {
				t.Errorf("bytes differ\n got %x\nwant %s", out, s.Hex)
			}
			// Whatever the hash order, the frames read back the same.
			code, again, _ := runCmd(t, out, "frames", "-I", s.Wire)
			if code != 0 || again != lines {
				t.Errorf("re-read: status %d\n%s\nwant\n%s", code, again, lines)
			}
		})
	}
}

// The examples, written and read again; big-endian headers are
// recognised.
func TestFramesEncodeExamples(t *testing.T) {
	in := `["set_version",1]
["data",1234,0,0,"imp.data.stream","hello"]
["result",1234,"pass",0,12]
["result",7,"log",0,0,6,"info","msg"]

[18841,1,"x"]
`
	for _, args := range [][]string{{"-I", "storable"}, {"-I", "Sereal"}, {"-I", "storable", "--big-endian"}} {
		code, out, stderr := runCmd(t, in, append([]string{"frames", "--encode"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: status %d: %s", args, code, stderr)
		}
		code, lines, stderr := runCmd(t, out, "frames", args[0], args[1])
		if code != 0 {
			t.Fatalf("%v: status %d: %s", args, code, stderr)
		}
		sameLines(t, lines, `["set_version",1]`, `["data",1234,0,0,"imp.data.stream","hello"]`,
			`["result",1234,"pass",0,12]`, `["result",7,"log",0,0,6,"info","msg"]`, `[18841,1,"x"]`)
	}
	code, out, _ := runCmd(t, `["data",1234,0,0,"imp.data.stream","hello"]`, "frames", "--encode")
	if want := "054019000000050b0200000005090000" + "04d2088008800" + "87f0a0568656c6c6f"; code != 0 || hex.EncodeToString([]byte(out)) != want {
		t.Errorf("storable data frame %x, want %s", out, want)
	}
}

// A stream that ends inside a frame, or holds garbage: the frames before
// it, one error line, status 1.
func TestFramesErrors(t *testing.T) {
	s := goldenStream(t, "storable_captured_server_to_client")
	b := s.Bytes()
	tests := []struct {
		name   string
		input  []byte
		args   []string
		lines  int
		stderr string
	}{
		{"cut inside the fourth frame", b[:s.Frames[3].Offset+10], []string{"-I", "storable"}, 3, "offset 104: eof inside operation"},
		{"garbage on the Sereal wire", append(bytes.Clone(goldenStream(t, "sereal_captured_server_to_client").Bytes()[:50]), "GET / HTTP/1.0\r\n"...), []string{"-I", "sereal"}, 2, "offset 50: not a Sereal document"},
		{"not Storable", append(bytes.Clone(b[:15]), 0x05, 0x40, 3, 0, 0, 0, 'a', 'b', 'c'), nil, 1, "offset 15: data: payload is not a Storable image"},
		{"frame over the limit", b, []string{"--max-frame-size", "20"}, 1, "offset 15: interface: frame of 65 bytes exceeds MaxFrameSize (20)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, string(tt.input), append([]string{"frames"}, tt.args...)...)
			if code != 1 {
				t.Errorf("status %d, want 1", code)
			}
			if n := strings.Count(stdout, "\n"); n != tt.lines {
				t.Errorf("%d lines printed, want %d:\n%s", n, tt.lines, stdout)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tt.stderr) || !strings.HasPrefix(stderr, "imprpc frames: conn: ") {
				t.Errorf("stderr %q, want one line with %q", stderr, tt.stderr)
			}
		})
	}
	for _, args := range [][]string{{"-I", "json"}, {"a", "b"}} {
		if code, _, _ := runCmd(t, "", append([]string{"frames"}, args...)...); code != 2 {
			t.Errorf("%v: status %d, want 2", args, code)
		}
	}
	code, _, stderr := runCmd(t, "[\"data\",1]\n", "frames", "--encode")
	if code != 1 || !strings.Contains(stderr, "line 1: conn: data: want 5 arguments, got 1") {
		t.Errorf("bad line: status %d, %q", code, stderr)
	}
}
