package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
)

// The benchmarks here show what "imprpc bench" reaches against a server
// that costs next to nothing (it answers each data RPC with a pass at
// once, on its reading goroutine, no plugin), beside a plain Go TCP echo
// of length-prefixed frames with 16-byte replies and the same number in
// flight: the ceiling of the load generator itself. docs/benchmarks.md
// ("Client") has the figures.

// benchInFlight is the number of data RPCs in flight in both: 16
// analyzers with 16 each.
const benchAnalyzers, benchWindow = 16, 16

var benchChunks = []int{64, 1024, 16 << 10}

// passServer answers every data RPC with pass(dir, end of the data so
// far) on the connection's reading goroutine.
func passServer(b testing.TB, wire conn.Format) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []*conn.Conn
	go func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			pos := map[int64]*[2]int64{}
			c, err := conn.Server(nc, conn.HandlerFunc(func(c *conn.Conn, m conn.Message) error {
				switch m := m.(type) {
				case *conn.NewAnalyzer:
					pos[m.ID] = new([2]int64)
				case *conn.DeleteAnalyzer:
					delete(pos, m.ID)
				case *conn.Data:
					p := pos[m.ID]
					if p == nil {
						return nil
					}
					p[m.Dir] += int64(len(m.Data))
					_, err := c.Send(&conn.Result{ID: m.ID, Result: imp.Pass(m.Dir, p[m.Dir])})
					return err
				}
				return nil
			}), &conn.Config{Wire: conn.Options{Format: wire}})
			if err != nil {
				nc.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	b.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close(nil)
		}
		wg.Wait()
	})
	return l.Addr().String()
}

// BenchmarkBenchTool runs imprpc bench's load against the pass server;
// b.N is the number of data RPCs.
func BenchmarkBenchTool(b *testing.B) {
	for _, wire := range []conn.Format{conn.Storable, conn.Sereal} {
		for _, chunk := range benchChunks {
			b.Run(fmt.Sprintf("%s/%d", wire, chunk), func(b *testing.B) {
				addr := passServer(b, wire)
				cfg := benchConfig{Addr: addr, Wire: wire, Connections: 1, Analyzers: benchAnalyzers, Window: benchWindow,
					Chunk: chunk, Messages: int64(b.N), Timeout: 60e9}
				b.SetBytes(int64(chunk))
				b.ResetTimer()
				rep, err := runBench(context.Background(), cfg, nil)
				if err != nil {
					b.Fatal(err)
				}
				if rep.Errors != 0 {
					b.Fatalf("%d errors", rep.Errors)
				}
				b.ReportMetric(rep.MessagesPerS, "msg/s")
				b.ReportMetric(rep.P50US, "p50-µs")
				b.ReportMetric(rep.P99US, "p99-µs")
				b.ReportMetric(rep.MaxUS, "max-µs")
			})
		}
	}
}

// BenchmarkPlainEcho is the plain Go TCP frame echo: the client writes
// frames of chunk bytes behind a 4-byte length, keeping as many in
// flight as the bench, and the server answers each with a 16-byte frame.
func BenchmarkPlainEcho(b *testing.B) {
	for _, chunk := range benchChunks {
		b.Run(fmt.Sprint(chunk), func(b *testing.B) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			go echoServer(l)
			nc, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer nc.Close()
			frame := make([]byte, 4+chunk)
			binary.LittleEndian.PutUint32(frame, uint32(chunk))
			credits := make(chan struct{}, benchAnalyzers*benchWindow)
			for range cap(credits) {
				credits <- struct{}{}
			}
			done := make(chan error, 1)
			go func() {
				r := bufio.NewReaderSize(nc, 64<<10)
				reply := make([]byte, 16)
				for range b.N {
					if _, err := io.ReadFull(r, reply); err != nil {
						done <- err
						return
					}
					credits <- struct{}{}
				}
				done <- nil
			}()
			b.SetBytes(int64(chunk))
			b.ResetTimer()
			w := bufio.NewWriterSize(nc, 64<<10)
			for range b.N {
				select {
				case <-credits:
				default:
					w.Flush()
					<-credits
				}
				w.Write(frame)
			}
			w.Flush()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
		})
	}
}

// echoServer answers each length-prefixed frame with 16 bytes.
func echoServer(l net.Listener) {
	for {
		nc, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer nc.Close()
			r := bufio.NewReaderSize(nc, 64<<10)
			w := bufio.NewWriterSize(nc, 64<<10)
			var hdr [4]byte
			reply := make([]byte, 16)
			for {
				if _, err := io.ReadFull(r, hdr[:]); err != nil {
					return
				}
				if _, err := r.Discard(int(binary.LittleEndian.Uint32(hdr[:]))); err != nil {
					return
				}
				w.Write(reply)
				if r.Buffered() == 0 {
					if w.Flush() != nil {
						return
					}
				}
			}
		}()
	}
}
