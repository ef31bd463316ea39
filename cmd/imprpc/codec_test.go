package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goimp/imprpc/perl/taggedjson"
)

// perlShow returns what Perl's own Storable or Sereal makes of the image in
// file, as tagged JSON printed by the fixtures' Perl module.
func perlShow(t *testing.T, file, format string) string {
	t.Helper()
	var load string
	switch format {
	case "storable":
		load = `use Storable qw(thaw retrieve); my $d = do { local $/; open my $f, "<:raw", $ARGV[0] or die $!; <$f> };
			my $r = substr($d, 0, 4) eq "pst0" ? retrieve($ARGV[0]) : thaw($d);`
	case "sereal":
		load = `use Sereal::Decoder qw(decode_sereal); my $d = do { local $/; open my $f, "<:raw", $ARGV[0] or die $!; <$f> };
			my $r = \ decode_sereal($d);`
	}
	lib, _ := filepath.Abs("../../perl-fixtures/lib")
	cmd := exec.Command("perl", "-I"+lib, "-MImpFixture::TaggedJSON=referent_to_tagged_json", "-e",
		load+` print referent_to_tagged_json($r), "\n";`, file)
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok && strings.Contains(string(ee.Stderr), "Can't locate Sereal") {
			t.Skip("Perl's Sereal::Decoder is not installed (scripts/test installs it)")
		}
		t.Fatalf("perl: %v", err)
	}
	return string(out)
}

func sameJSON(t *testing.T, got, want string) {
	t.Helper()
	diff, err := taggedjson.Diff([]byte(got), []byte(want))
	if err != nil {
		t.Fatalf("compare %q with %q: %v", got, want, err)
	}
	if diff != "" {
		t.Errorf("differs from Perl: %s\n got: %s\nwant: %s", diff, got, want)
	}
}

// The README's first command: decoding the example image gives what Perl's
// Storable reads from it.
func TestDecodeExample(t *testing.T) {
	code, stdout, stderr := runCmd(t, "", "decode", "../../examples/example.pst")
	if code != 0 {
		t.Fatalf("status %d: %s", code, stderr)
	}
	sameJSON(t, stdout, perlShow(t, "../../examples/example.pst", "storable"))
}

// Encoding tagged JSON gives images that Perl reads as the same value, in
// every format, and decode reads them back. Network order carries doubles
// as strings, as Perl's nfreeze does.
func TestEncodeReadByPerl(t *testing.T) {
	const value = `{"ctx":{"meta":{"caddr":"192.0.2.10","cport":40001}},"d":0.25,"list":[1,-1,300,70000,"x",null],` +
		`"ref":{"$ref":"s"},"obj":{"$bless":"A::B","$value":[1]},"text":"\u263a","bytes":"\u00e9"}`
	for _, tt := range []struct {
		format, perlFormat string
		file               bool
	}{
		{"nstorable", "storable", false},
		{"storable", "storable", false},
		{"nstorable", "storable", true},
		{"storable", "storable", true},
		{"sereal", "sereal", false},
	} {
		want := value
		if tt.format == "nstorable" {
			want = strings.Replace(value, `"d":0.25`, `"d":"0.25"`, 1)
		}
		name := tt.format
		if tt.file {
			name += "-file"
		}
		t.Run(name, func(t *testing.T) {
			args := []string{"encode", "--format", tt.format}
			if tt.file {
				args = append(args, "--file")
			}
			code, image, stderr := runCmd(t, value, args...)
			if code != 0 {
				t.Fatalf("encode: status %d: %s", code, stderr)
			}
			if tt.file != strings.HasPrefix(image, "pst0") {
				t.Errorf("file image %v, starts with %q", tt.file, image[:4])
			}
			f := filepath.Join(t.TempDir(), "image")
			if err := os.WriteFile(f, []byte(image), 0o600); err != nil {
				t.Fatal(err)
			}
			sameJSON(t, perlShow(t, f, tt.perlFormat), want)
			code, back, stderr := runCmd(t, image, "decode")
			if code != 0 {
				t.Fatalf("decode: status %d: %s", code, stderr)
			}
			sameJSON(t, back, want)
		})
	}
}

// Bad input gives one line on stderr and status 1; bad usage status 2.
func TestCodecErrors(t *testing.T) {
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"not an image", "hello", []string{"decode"}, 1, "neither a Storable image nor a Sereal document"},
		{"empty input", "", []string{"decode"}, 1, "empty input"},
		{"cut short", "\x05\x0b\x02\x00\x00\x00\x05", []string{"decode"}, 1, "storable:"},
		{"forced wrong format", "\x05\x0b\x08\x81", []string{"decode", "--format", "sereal"}, 1, "sereal:"},
		{"missing file", "", []string{"decode", "/nonexistent/image"}, 1, "no such file"},
		{"bad JSON", "{", []string{"encode", "--format", "nstorable"}, 1, "taggedjson"},
		{"cycle", `{"$cycle":true}`, []string{"encode", "--format", "nstorable"}, 1, "cycle"},
		{"encode without format", "1", []string{"encode"}, 2, "--format is required"},
		{"unknown format", "1", []string{"encode", "--format", "yaml"}, 2, "unknown --format"},
		{"two inputs", "", []string{"decode", "a", "b"}, 2, "one input at most"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, tt.stdin, tt.args...)
			if code != tt.code {
				t.Errorf("status %d, want %d", code, tt.code)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if !strings.Contains(strings.ToLower(stderr), strings.ToLower(tt.want)) {
				t.Errorf("stderr %q does not mention %q", stderr, tt.want)
			}
			if tt.code == 1 && strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("stderr has more than one line: %q", stderr)
			}
		})
	}
}
