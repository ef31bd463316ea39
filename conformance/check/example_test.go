package check_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/goimp/imprpc/conformance/check"
	"github.com/goimp/imprpc/conn"
	_ "github.com/goimp/imprpc/plugin/all"
	"github.com/goimp/imprpc/server"
)

// Run checks a server; here our own, serving the pattern plugin on the
// Sereal wire.
func Example() {
	f, err := server.OpenPlugins("pattern=string=secret&action=deny&actdata=denied")
	if err != nil {
		panic(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &server.Server{Factory: f, Wire: conn.Options{Format: conn.Sereal}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	go srv.Serve(l)
	defer srv.Close()

	sum, err := check.Run(context.Background(), l.Addr().String(), check.Options{Wire: conn.Sereal}, func(r check.Result) {
		fmt.Println(r.Status, r.Check)
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(sum)
	fmt.Println("ok:", sum.OK())
	// Output:
	// PASS handshake/set-version
	// PASS handshake/version
	// PASS interface/none
	// PASS interface/one
	// PASS interface/several
	// PASS analyzer/new
	// PASS analyzer/unknown
	// PASS analyzer/duplicate
	// PASS analyzer/delete
	// PASS data/end
	// PASS analyzers/many
	// PASS framing/batched
	// PASS framing/split
	// PASS framing/large
	// PASS framing/oversized
	// PASS disconnect/mid-frame
	// PASS framing/garbage
	// conformance: 17 passed, 0 failed, 0 warnings, 0 not applicable
	// ok: true
}
