package clienttest

import (
	"time"

	"github.com/goimp/imprpc/client"
	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/perl"
)

// EveryResultWords are words of the test plugin testing:every_result
// (package plugin/testplugin) and of its Perl twin
// ImpFixture::Plugin::EveryResult: together they name every result type
// with every argument shape the plugins have.
var EveryResultWords = []string{
	"pass", "pass:max", "prepass", "prepass:max", "replace", "replace:empty", "replace:latin1",
	"replace_later", "replace_later:max", "pass_pattern", "pass_pattern:i", "pass_pattern:string",
	"tosender", "deny", "deny:noreason", "deny:extra", "deny:utf8", "drop", "fatal",
	"log", "log:extra", "log:utf8", "log:debug", "log:info", "log:notice", "log:warning",
	"log:error", "log:critical", "log:alert", "log:emergency",
	"port_open", "port_open:extra", "port_close", "port_close:extra",
	"acctfield", "acctfield:int", "acctfield:neg", "acctfield:big", "acctfield:uint",
	"acctfield:double", "acctfield:utf8", "acctfield:latin1", "acctfield:undef", "acctfield:numstr",
	"pause", "pause:nodir", "continue", "continue:nodir",
}

// Collect receives the results of a until its Results channel is closed
// and returns them with the analyzer's end reason; ok is false when the
// channel was not closed within timeout (the results so far are
// returned).
func Collect(a *client.Analyzer, timeout time.Duration) (rs []imp.Result, end error, ok bool) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case r, open := <-a.Results():
			if !open {
				return rs, a.Err(), true
			}
			rs = append(rs, r)
		case <-t.C:
			return rs, nil, false
		}
	}
}

// ResultsJSON returns results as imprpc analyze prints them, one line
// each (conn.AppendResultJSON).
func ResultsJSON(rs []imp.Result) (string, error) {
	var b []byte
	for _, r := range rs {
		var err error
		if b, err = conn.AppendResultJSON(b, r); err != nil {
			return "", err
		}
		b = append(b, '\n')
	}
	return string(b), nil
}

// OverWire returns results as a peer receives them over wire format w:
// the Storable wire writes integers beyond 32 bits and non-integral
// doubles as strings.
func OverWire(w conn.Format, rs []imp.Result) ([]imp.Result, error) {
	wire, err := conn.Options{Format: w}.Wire()
	if err != nil {
		return nil, err
	}
	out := make([]imp.Result, 0, len(rs))
	for _, r := range rs {
		frame, err := wire.Append(nil, &conn.Result{ID: 1, Result: r})
		if err != nil {
			return nil, err
		}
		m, err := wire.Decode(frame)
		if err != nil {
			return nil, err
		}
		out = append(out, m.(*conn.Result).Result)
	}
	return out, nil
}

// SameResults reports whether got and want hold the same results, their
// arguments compared as Perl values (an integer is not a string, a UTF-8
// string not a byte string).
func SameResults(got, want []imp.Result) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].Type != want[i].Type || !perl.Equal(perl.NewArray(got[i].Args...), perl.NewArray(want[i].Args...)) {
			return false
		}
	}
	return true
}
