package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/server"
)

// Serve a plugin, named as on imprpc_server.pl's command line, to a
// client; here the client is a Go conn.Client, as a Perl data provider
// would be.
func ExampleServer() {
	f, err := server.OpenPlugins("Net::IMP::Pattern=string=secret&action=replace&actdata=******")
	if err != nil {
		panic(err)
	}
	srv := &server.Server{Factory: f, Logger: slog.New(slog.DiscardHandler)}
	l, err := srv.Listen("127.0.0.1:0") // or a UNIX socket: "/run/imprpc.sock"
	if err != nil {
		panic(err)
	}
	go srv.Serve(l)
	defer srv.Close()

	results := make(chan *conn.Result)
	nc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		panic(err)
	}
	c, err := conn.Client(nc, conn.HandlerFunc(func(_ *conn.Conn, m conn.Message) error {
		if r, ok := m.(*conn.Result); ok {
			results <- r
		}
		return nil
	}), nil)
	if err != nil {
		panic(err)
	}
	defer c.Close(nil)
	meta := &imp.Meta{ClientAddr: "192.0.2.10", ClientPort: 40001}
	c.Send(&conn.NewAnalyzer{ID: 1, Context: meta.Context()})
	c.Send(&conn.Data{ID: 1, Type: imp.DataStream, Data: []byte("my secret word")})
	c.Send(&conn.Data{ID: 1, Type: imp.DataStream}) // end of data from the client
	for {
		r := <-results
		fmt.Println(r.ID, r.Result)
		if off, _ := r.Result.Offset(); off == imp.MaxOffset {
			break // direction 0 is passed to its end
		}
	}
	// Output:
	// 1 pass(0, 3)
	// 1 replace(0, 9, "******")
	// 1 pass(0, -1)
}

// Shut a server down gracefully: it stops accepting at once, and each
// connection is closed when its client has deleted its analyzers, or
// when the context ends.
func ExampleServer_Shutdown() {
	f, err := server.OpenPlugins("pattern=string=secret&action=deny&actdata=denied")
	if err != nil {
		panic(err)
	}
	srv := &server.Server{Factory: f, Logger: slog.New(slog.DiscardHandler)}
	l, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	done := make(chan error)
	go func() { done <- srv.Serve(l) }()

	// ... on SIGTERM:
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fmt.Println(srv.Shutdown(ctx))
	fmt.Println(<-done)
	// Output:
	// <nil>
	// server: server closed
}
