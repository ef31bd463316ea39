package conn_test

import (
	"bytes"
	"context"
	"fmt"
	"net"

	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
)

// Encode a data RPC for the Storable wire and read it back.
func ExampleWire() {
	w, err := conn.Options{Format: conn.Storable}.Wire()
	if err != nil {
		panic(err)
	}
	frame, err := w.Append(nil, &conn.Data{ID: 1, Dir: imp.FromClient, Type: imp.DataStream, Data: []byte("hello")})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%x\n", frame)
	m, err := w.NewReader(bytes.NewReader(frame)).ReadMessage()
	if err != nil {
		panic(err)
	}
	d := m.(*conn.Data)
	fmt.Println(d.ID, d.Dir, d.Offset, d.Type, string(d.Data))
	// Output:
	// 054016000000050b0200000005088108800880087f0a0568656c6c6f
	// 1 0 0 imp.data.stream hello
}

// The JSON form of messages, as "imprpc frames" prints them.
func ExampleAppendJSON() {
	for _, m := range []conn.Message{
		&conn.SetVersion{Version: 1},
		&conn.Data{ID: 1234, Type: imp.DataStream, Data: []byte("hello")},
		&conn.Result{ID: 1234, Result: imp.Pass(0, 12)},
		&conn.Result{ID: 7, Result: imp.Log(0, 0, 6, imp.LogInfo, "msg")},
	} {
		j, err := conn.AppendJSON(nil, m)
		if err != nil {
			panic(err)
		}
		fmt.Println(string(j))
	}
	// Output:
	// ["set_version",1]
	// ["data",1234,0,0,"imp.data.stream","hello"]
	// ["result",1234,"pass",0,12]
	// ["result",7,"log",0,0,6,"info","msg"]
}

// A server and a client connection: the client sends data, the server
// answers with a pass result.
func ExampleConn() {
	a, b := net.Pipe()
	srv, _ := conn.Server(a, conn.HandlerFunc(func(c *conn.Conn, m conn.Message) error {
		if d, ok := m.(*conn.Data); ok {
			_, err := c.Send(&conn.Result{ID: d.ID, Result: imp.Pass(d.Dir, d.Offset+int64(len(d.Data)))})
			return err
		}
		return nil
	}), nil)
	defer srv.Close(nil)

	results := make(chan *conn.Result, 1)
	cli, _ := conn.Client(b, conn.HandlerFunc(func(c *conn.Conn, m conn.Message) error {
		if r, ok := m.(*conn.Result); ok {
			results <- r
		}
		return nil
	}), nil)
	defer cli.Close(nil)

	var analyzers conn.Registry[string]
	id, _ := analyzers.Add("first connection")
	if err := cli.WaitQueued(context.Background(), 1<<20); err != nil { // backpressure
		panic(err)
	}
	cli.Send(&conn.Data{ID: id, Type: imp.DataStream, Data: []byte("GET / HTTP/1.0\r\n\r\n")})
	r := <-results
	name, _ := analyzers.Get(r.ID)
	fmt.Println(name, r.Result)
	// Output:
	// first connection pass(0, 18)
}
