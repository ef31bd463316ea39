package conn

import (
	"bytes"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/goimp/imprpc/imp"
)

// The data RPC sizes of the benchmarks (docs/benchmarks.md, "## Wire"):
// perl-fixtures/wire-bench.pl measures the same in Perl.
var benchSizes = []struct {
	name string
	n    int
}{{"64B", 64}, {"1KiB", 1 << 10}, {"16KiB", 16 << 10}, {"256KiB", 256 << 10}}

var benchWires = []struct {
	name string
	w    Wire
}{
	{"storable", Options{}.MustWire()},
	{"sereal", Options{Format: Sereal}.MustWire()},
}

// benchData is the data RPC the benchmarks send: data(7, 0, 123456,
// stream, n bytes), as wire-bench.pl builds it.
func benchData(n int) *Data {
	return &Data{ID: 7, Offset: 123456, Type: imp.DataStream, Data: bytes.Repeat([]byte("x"), n)}
}

func reportFrames(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}

// BenchmarkEncodeData appends a data frame to a reused buffer, as
// Conn.Send does.
func BenchmarkEncodeData(b *testing.B) {
	for _, bw := range benchWires {
		for _, sz := range benchSizes {
			b.Run(bw.name+"/"+sz.name, func(b *testing.B) {
				d := benchData(sz.n)
				buf, _ := bw.w.Append(nil, d)
				b.SetBytes(int64(sz.n))
				b.ReportAllocs()
				for b.Loop() {
					buf, _ = bw.w.Append(buf[:0], d)
				}
				reportFrames(b)
			})
		}
	}
}

// BenchmarkDecodeData decodes one data frame into a new message that owns
// its data (Wire.Decode: the data is copied).
func BenchmarkDecodeData(b *testing.B) {
	benchDecode(b, Wire.Decode)
}

// BenchmarkDecodeDataShared decodes one data frame into a message that
// shares the frame's memory (Wire.DecodeShared), as a Reader does with the
// large frames it reads into memory of their own.
func BenchmarkDecodeDataShared(b *testing.B) {
	benchDecode(b, Wire.DecodeShared)
}

func benchDecode(b *testing.B, decode func(Wire, []byte) (Message, error)) {
	for _, bw := range benchWires {
		for _, sz := range benchSizes {
			b.Run(bw.name+"/"+sz.name, func(b *testing.B) {
				frame, _ := bw.w.Append(nil, benchData(sz.n))
				b.SetBytes(int64(sz.n))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := decode(bw.w, frame); err != nil {
						b.Fatal(err)
					}
				}
				reportFrames(b)
			})
		}
	}
}

// loopReader returns the same stream again and again.
type loopReader struct {
	b []byte
	i int
}

func (r *loopReader) Read(p []byte) (int, error) {
	n := copy(p, r.b[r.i:])
	r.i = (r.i + n) % len(r.b)
	return n, nil
}

// BenchmarkReadData reads data frames from a stream with a Reader, as a
// Conn does: small frames are decoded from the read buffer, large ones are
// read into memory of their own, which the message keeps.
func BenchmarkReadData(b *testing.B) {
	for _, bw := range benchWires {
		for _, sz := range benchSizes {
			b.Run(bw.name+"/"+sz.name, func(b *testing.B) {
				var stream []byte
				for len(stream) < 1<<20 {
					stream, _ = bw.w.Append(stream, benchData(sz.n))
				}
				r := bw.w.NewReader(&loopReader{b: stream})
				b.SetBytes(int64(sz.n))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := r.ReadMessage(); err != nil {
						b.Fatal(err)
					}
				}
				reportFrames(b)
			})
		}
	}
}

// BenchmarkRoundTrip sends small data RPCs (64 bytes) from a client
// connection to a server connection over loopback TCP, with up to 256
// in flight; the server answers each with a pass result. One operation is
// one data RPC answered.
func BenchmarkRoundTrip(b *testing.B) {
	for _, bw := range benchWires {
		b.Run(bw.name, func(b *testing.B) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Skip(err)
			}
			defer l.Close()
			cfg := &Config{Wire: bw.w.Options()}
			srvDone := make(chan *Conn, 1)
			go func() {
				nc, err := l.Accept()
				if err != nil {
					srvDone <- nil
					return
				}
				res := &Result{}
				c, _ := Server(nc, HandlerFunc(func(c *Conn, m Message) error {
					if d, ok := m.(*Data); ok {
						res.ID, res.Result = d.ID, imp.Pass(d.Dir, d.Offset+int64(len(d.Data)))
						_, err := c.Send(res)
						return err
					}
					return nil
				}), cfg)
				srvDone <- c
			}()
			nc, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			const window = 256
			slots := make(chan struct{}, window)
			var got sync.WaitGroup
			cli, err := Client(nc, HandlerFunc(func(c *Conn, m Message) error {
				if _, ok := m.(*Result); ok {
					<-slots
					got.Done()
				}
				return nil
			}), cfg)
			if err != nil {
				b.Fatal(err)
			}
			srv := <-srvDone
			d := benchData(64)
			b.SetBytes(64)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				slots <- struct{}{}
				got.Add(1)
				d.Offset = int64(i)
				if _, err := cli.Send(d); err != nil {
					b.Fatal(err)
				}
			}
			got.Wait()
			b.StopTimer()
			reportFrames(b)
			cli.Close(nil)
			if srv != nil {
				srv.Close(nil)
			}
		})
	}
}

// BenchmarkEcho is the baseline of BenchmarkRoundTrip: the same traffic
// (64-byte payloads in 6-byte length-prefixed frames, 16-byte replies,
// 256 in flight) over the same loopback TCP, with no codec and no Conn.
func BenchmarkEcho(b *testing.B) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Skip(err)
	}
	defer l.Close()
	go func() {
		nc, err := l.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		in := make([]byte, 64<<10)
		var pending []byte
		reply := make([]byte, 16)
		var out []byte
		for {
			n, err := nc.Read(in)
			if err != nil {
				return
			}
			pending = append(pending, in[:n]...)
			out = out[:0]
			for len(pending) >= 70 {
				pending = pending[70:]
				out = append(out, reply...)
			}
			if _, err := nc.Write(out); err != nil {
				return
			}
		}
	}()
	nc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	const window = 256
	slots := make(chan struct{}, window)
	done := make(chan struct{})
	var want int
	go func() {
		buf := make([]byte, 64<<10)
		got := 0
		for got < want*16 {
			n, err := nc.Read(buf)
			if err != nil {
				break
			}
			for i := 0; i < (got+n)/16-got/16; i++ {
				<-slots
			}
			got += n
		}
		close(done)
	}()
	want = b.N
	frame := make([]byte, 70)
	b.SetBytes(64)
	b.ResetTimer()
	var out []byte
	for i := 0; i < b.N; i++ {
		slots <- struct{}{}
		out = append(out[:0], frame...)
		// Write what the window allows in one go, as Conn's writer does.
		for len(slots) < window && i+1 < b.N {
			select {
			case slots <- struct{}{}:
				i++
				out = append(out, frame...)
				continue
			default:
			}
			break
		}
		if _, err := nc.Write(out); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		b.Fatal("echo did not finish")
	}
	b.StopTimer()
	reportFrames(b)
}
