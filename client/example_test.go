package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/goimp/imprpc/client"
	"github.com/goimp/imprpc/client/clienttest"
	"github.com/goimp/imprpc/imp"
)

// A data provider hands the analysis of one inspected connection to the
// IMP server's plugin, here a pattern plugin that replaces "secret".
func ExampleDial() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv := exampleServer("pattern=string=secret&action=replace&actdata=XXXXXX")
	defer srv.Close()

	f, err := client.Dial(ctx, srv.Addr(), client.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()

	// The inspected connection: a client at 192.0.2.10:40001 that
	// connected to us on port 3000.
	meta := client.Meta(&net.TCPAddr{IP: net.IPv4(192, 0, 2, 10), Port: 40001}, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 3000}, nil)
	a, err := f.NewAnalyzer(ctx, meta.Context())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()

	go func() {
		// What the client sent, then the end of both directions.
		_ = a.Data(ctx, imp.FromClient, 0, imp.DataStream, []byte("user=joe password=secret\n"))
		_ = a.Data(ctx, imp.FromClient, 0, imp.DataStream, nil)
		_ = a.Data(ctx, imp.FromServer, 0, imp.DataStream, nil)
	}()
	for r := range a.Results() {
		fmt.Println(r)
	}
	fmt.Println(errors.Is(a.Err(), client.ErrFinished))
	// Output:
	// pass(0, 18)
	// replace(0, 24, "XXXXXX")
	// pass(0, -1)
	// pass(1, -1)
	// true
}

// Analyzers made while the server cannot be reached get what
// Net::IMP::Remote's fail option gives, here fail=soft.
func ExampleOptions_fail() {
	ctx := context.Background()
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close() // nobody listens there now

	f, err := client.Dial(ctx, addr, client.Options{Fail: client.FailSoft, AllowUnreachable: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	a, _ := f.NewAnalyzer(ctx, nil)
	for r := range a.Results() {
		fmt.Println(r)
	}
	var de *client.DialError
	fmt.Println(errors.As(a.Err(), &de), de.Text)
	// Output:
	// log(0, 0, 0, error, "connect to IMP server failed (Connection refused): pass all")
	// pass(0, -1)
	// pass(1, -1)
	// true Connection refused
}

// exampleServer serves a plugin spec on loopback TCP.
func exampleServer(spec string) *clienttest.Server {
	fs, err := imp.Open(spec)
	if err != nil {
		panic(err)
	}
	s, err := clienttest.Listen("tcp", "127.0.0.1:0", clienttest.Config{Factory: fs[0]})
	if err != nil {
		panic(err)
	}
	return s
}
