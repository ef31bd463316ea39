package server_test

import (
	"log/slog"
	"os"
	"testing"
)

// discardLogger drops every record.
var discardLogger = slog.New(slog.DiscardHandler)

func TestMain(m *testing.M) {
	if kind := os.Getenv("IMPRPC_BENCH_SERVE"); kind != "" {
		benchServerMain(kind) // a server process of the benchmarks
		return
	}
	code := m.Run()
	stopTargets()
	os.Exit(code)
}
