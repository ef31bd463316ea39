package check_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/goimp/imprpc/conformance/check"
)

func TestResultString(t *testing.T) {
	tests := []struct {
		r    check.Result
		want string
	}{
		{check.Result{Check: "analyzer/new", Status: check.Pass}, "PASS analyzer/new"},
		{check.Result{Check: "framing/oversized", Status: check.Pass, Note: "closed"}, "PASS framing/oversized: closed"},
		{check.Result{Check: "handshake/version", Status: check.Fail, Expected: "set_version(1)", Got: `["set_version",2]`},
			`FAIL handshake/version: expected set_version(1); got ["set_version",2]`},
		{check.Result{Check: "framing/garbage", Status: check.Warn, Note: "neither answered nor closed"},
			"WARN framing/garbage: neither answered nor closed"},
		{check.Result{Check: "handshake/version", Status: check.NotApplicable, Note: "no set_version"},
			"N/A handshake/version: no set_version"},
	}
	for _, tt := range tests {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
		b, err := json.Marshal(tt.r)
		if err != nil {
			t.Fatal(err)
		}
		var back check.Result
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if back != tt.r {
			t.Errorf("JSON %s reads back as %+v, want %+v", b, back, tt.r)
		}
	}
	if _, err := json.Marshal(check.Result{Status: check.Status(9)}); err == nil {
		t.Error("an unknown status marshals")
	}
	var s check.Status
	if err := s.UnmarshalText([]byte("MAYBE")); err == nil {
		t.Error("MAYBE reads as a status")
	}
}

func TestSummary(t *testing.T) {
	var s check.Summary
	for _, st := range []check.Status{check.Pass, check.Pass, check.Warn, check.NotApplicable} {
		s.Add(check.Result{Status: st})
	}
	if !s.OK() {
		t.Error("warnings and N/A make a summary not OK")
	}
	if got, want := s.String(), "conformance: 2 passed, 0 failed, 1 warnings, 1 not applicable"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	s.Add(check.Result{Status: check.Fail})
	if s.OK() {
		t.Error("a failure leaves the summary OK")
	}
}

func TestRunRefusesBadOptions(t *testing.T) {
	for _, tt := range []struct {
		addr  string
		opts  check.Options
		field string
	}{
		{"", check.Options{}, "addr"},
		{"127.0.0.1:1", check.Options{Timeout: -1}, "Timeout"},
		{"127.0.0.1:1", check.Options{Quiet: -1}, "Quiet"},
		{"127.0.0.1:1", check.Options{Analyzers: -1}, "Analyzers"},
		{"127.0.0.1:1", check.Options{Wire: 7}, "Wire"},
	} {
		_, err := check.Run(context.Background(), tt.addr, tt.opts, nil)
		var oe *check.OptionsError
		if !errors.As(err, &oe) || oe.Field != tt.field {
			t.Errorf("Run(%q, %+v) = %v, want an *OptionsError for %s", tt.addr, tt.opts, err, tt.field)
		}
	}
}

func TestRunStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sum, err := check.Run(ctx, "127.0.0.1:1", check.Options{}, func(r check.Result) {
		t.Errorf("a result after the context ended: %v", r)
	})
	if !errors.Is(err, context.Canceled) || sum != (check.Summary{}) {
		t.Errorf("Run = %+v, %v; want nothing and context.Canceled", sum, err)
	}
}
