package main

import (
	"bytes"
	"context"
	"flag"
	"strings"
	"testing"
)

// runCmd runs an imprpc command line in-process and returns its exit status,
// stdout and stderr.
func runCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	code := run(context.Background(), args, e)
	return code, out.String(), errb.String()
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		inStdout string
		inStderr string
	}{
		{"no command", nil, 2, "", "commands:"},
		{"help lists commands", []string{"help"}, 0, "commands:", ""},
		{"unknown command", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"help of unknown command", []string{"help", "frobnicate"}, 2, "", `unknown command "frobnicate"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, "", tt.args...)
			if code != tt.code {
				t.Errorf("exit status %d, want %d (stderr %q)", code, tt.code, stderr)
			}
			if !strings.Contains(stdout, tt.inStdout) {
				t.Errorf("stdout %q does not contain %q", stdout, tt.inStdout)
			}
			if !strings.Contains(stderr, tt.inStderr) {
				t.Errorf("stderr %q does not contain %q", stderr, tt.inStderr)
			}
		})
	}
}

// Every command answers --help and "imprpc help NAME" with its usage on
// stdout and status 0, and an unknown flag with status 2.
func TestEveryCommandHasHelp(t *testing.T) {
	if len(commands) == 0 {
		t.Fatal("no commands registered")
	}
	for name, c := range commands {
		t.Run(name, func(t *testing.T) {
			for _, args := range [][]string{{name, "--help"}, {"help", name}} {
				code, stdout, _ := runCmd(t, "", args...)
				if code != 0 || !strings.HasPrefix(stdout, "usage: imprpc "+name) {
					t.Errorf("%v: status %d, stdout %q", args, code, stdout)
				}
				if c.Short == "" || strings.TrimSpace(c.Long) == "" {
					t.Errorf("%s has no description", name)
				}
			}
			if code, _, _ := runCmd(t, "", name, "--no-such-flag"); code != 2 {
				t.Errorf("unknown flag: status %d, want 2", code)
			}
		})
	}
}

func TestOptFlag(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	d := &optFlag{Implicit: "*"}
	fs.Var(d, "d", "debug")
	alias(fs, "d", "debug")
	if err := fs.Parse([]string{"-d", "arg"}); err != nil || !d.Given || d.Value != "*" || fs.Arg(0) != "arg" {
		t.Fatalf("-d: %v %+v %v", err, d, fs.Args())
	}
	d2 := &optFlag{Implicit: "*"}
	fs2 := flag.NewFlagSet("x", flag.ContinueOnError)
	fs2.Var(d2, "debug", "debug")
	if err := fs2.Parse([]string{"--debug=Net::IMP*"}); err != nil || d2.Value != "Net::IMP*" {
		t.Fatalf("--debug=: %v %+v", err, d2)
	}
}
