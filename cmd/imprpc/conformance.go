package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/goimp/imprpc/conformance/check"
	"github.com/goimp/imprpc/conn"
)

func init() {
	register(&command{
		Name:  "conformance",
		Args:  "[-I storable|sereal] [--json] [--timeout D] ADDR",
		Short: "check an IMP RPC server's conformance to the protocol",
		Long: `
Conformance connects to the IMP RPC server at ADDR (host:port, [v6addr]:port
or a UNIX socket path containing "/"), ours, Perl's imprpc_server.pl or
anyone's, and runs the protocol scenarios that need no knowledge of its
plugin: the handshake and version, interface queries, unknown, duplicate
and deleted analyzers, end of data, framing limits, many analyzers, and a
client that disconnects mid-frame. Each check uses a connection of its own.

It prints one line per check, starting with PASS, FAIL (then what was
expected and what came), WARN (the server is loose where Perl's
imprpc_server.pl is too) or N/A, then the check's name, and last

  conformance: P passed, F failed, W warnings, N not applicable

With --json the same goes out as JSON lines: {"check":...,"status":...,
"expected":...,"got":...,"note":...} per check, then {"passed":P,
"failed":F,"warnings":W,"not_applicable":N}. The exit status is 0 when every
applicable check passed (warnings allowed), 1 otherwise, 2 for a usage
error. Checks:
` + checkList(),
		Flags: conformanceFlags,
	})
}

// checkList lists the checks' names for the help text.
func checkList() string {
	var s string
	for _, c := range check.Checks() {
		s += "\n  " + c.Name
	}
	return s
}

func conformanceFlags(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	impl := fs.String("I", "storable", "the server's wire: storable or sereal (any case)")
	alias(fs, "I", "impl")
	asJSON := fs.Bool("json", false, "print JSON lines instead of text")
	timeout := fs.Duration("timeout", check.DefaultTimeout, "how long to wait for each reply the protocol requires")
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) != 1 {
			return usagef("give one ADDR")
		}
		wire, err := conn.ParseFormat(*impl)
		if err != nil {
			return usagef("-I: %v", err)
		}
		if *timeout <= 0 {
			return usagef("--timeout must be positive")
		}
		out := &resultWriter{w: e.Stdout, json: *asJSON}
		sum, err := check.Run(ctx, args[0], check.Options{Wire: wire, Timeout: *timeout}, out.result)
		if err != nil {
			return err
		}
		if out.err != nil {
			return out.err
		}
		if err := out.summary(sum); err != nil {
			return err
		}
		if !sum.OK() {
			return &exitError{code: 1}
		}
		return nil
	}
}

// resultWriter prints results as text or JSON lines, keeping the first
// write error.
type resultWriter struct {
	w    io.Writer
	json bool
	err  error
}

func (o *resultWriter) result(r check.Result) {
	if o.json {
		o.line(r)
		return
	}
	o.text(r.String())
}

func (o *resultWriter) summary(s check.Summary) error {
	if o.json {
		o.line(s)
	} else {
		o.text(s.String())
	}
	return o.err
}

func (o *resultWriter) line(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		o.err = errors.Join(o.err, err)
		return
	}
	o.text(string(b))
}

func (o *resultWriter) text(s string) {
	if o.err == nil {
		_, o.err = fmt.Fprintln(o.w, s)
	}
}
