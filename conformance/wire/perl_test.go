package wire_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/conn/conntest"
	"github.com/goimp/imprpc/imp"
)

type decodeReply struct {
	RPCs    []string `json:"rpcs"`
	Rest    int      `json:"rest"`
	Failure string   `json:"failure"`
}

// perlDecode has Perl read a byte stream as Net::IMP::Remote reads it.
func perlDecode(wire string, b []byte) decodeReply {
	GinkgoHelper()
	var r decodeReply
	call(map[string]any{"op": "decode", "wire": wire, "hex": hexOf(b)}, &r)
	Expect(r.Failure).To(BeEmpty())
	Expect(r.Rest).To(BeZero())
	return r
}

// goldenMessages returns the message of every golden vector, as Go
// decodes Perl's frame.
func goldenMessages(wire string) ([]conntest.Vector, []conn.Message) {
	GinkgoHelper()
	needVectors()
	w := wireOf(wire, conn.Options{})
	var ms []conn.Message
	for _, v := range vectors {
		ms = append(ms, orRaw(w.Decode(v.Frame(wire))))
	}
	return vectors, ms
}

var _ = Describe("Perl reads what Go writes", func() {
	for _, wire := range wireNames {
		for _, opts := range []conn.Options{{}, {SortKeys: true}, {BigEndian: true}, {SerealStringTail: true}} {
			if opts.BigEndian && wire == conntest.Sereal || opts.SerealStringTail && wire == conntest.Storable {
				continue
			}
			It(fmt.Sprintf("every golden RPC, written by Go on %s with %+v, Perl decodes to the RPC (in one stream)", wire, opts), func() {
				needPerl()
				vs, ms := goldenMessages(wire)
				f, _ := conn.ParseFormat(wire)
				opts.Format = f
				w := opts.MustWire()
				var stream []byte
				for _, m := range ms {
					var err error
					stream, err = w.Append(stream, m)
					Expect(err).NotTo(HaveOccurred())
				}
				if opts.BigEndian {
					// Perl reads headers in its own (little-endian) byte
					// order: swap them back for it, frame by frame.
					stream = swapHeaders(stream)
				}
				r := perlDecode(wire, stream)
				Expect(r.RPCs).To(HaveLen(len(ms)))
				read, err := decodeAll(w, stream)
				Expect(err).NotTo(HaveOccurred())
				for i, rpc := range r.RPCs {
					By(vs[i].Name)
					if opts.SerealStringTail {
						// A last integer outside -16..15 goes out as its
						// decimal string: Perl and Go read the same RPC,
						// the one given, with that number as a string.
						expectSameMessage(rpcMessage(rpc), read[i])
						expectSameNumbers(rpcMessage(rpc), ms[i])
						continue
					}
					expectSameMessage(rpcMessage(rpc), ms[i])
				}
			})
		}
	}
})

// swapHeaders turns the big-endian Storable headers of a stream into
// little-endian ones.
func swapHeaders(b []byte) []byte {
	out := bytes.Clone(b)
	for i := 0; i+6 <= len(out); {
		n := int(out[i+2])<<24 | int(out[i+3])<<16 | int(out[i+4])<<8 | int(out[i+5])
		out[i], out[i+1] = out[i+1], out[i]
		out[i+2], out[i+3], out[i+4], out[i+5] = out[i+5], out[i+4], out[i+3], out[i+2]
		i += 6 + n
	}
	return out
}

type randomReply struct {
	Frames []string `json:"frames_hex"`
	RPCs   []string `json:"rpcs"`
}

var _ = Describe("Go reads what Perl writes", func() {
	for _, wire := range wireNames {
		for seed := 1; seed <= 3; seed++ {
			It(fmt.Sprintf("decodes 400 random RPCs Perl wrote on %s (seed %d), alone and as one stream, and writes them again byte for byte", wire, seed), func() {
				needPerl()
				var r randomReply
				call(map[string]any{"op": "random", "wire": wire, "seed": seed, "count": 400}, &r)
				Expect(r.Frames).To(HaveLen(400))
				w := wireOf(wire, conn.Options{})
				var stream []byte
				var want []conn.Message
				for i, h := range r.Frames {
					frame := unhex(h)
					stream = append(stream, frame...)
					m := orRaw(w.Decode(frame))
					expected := rpcMessage(r.RPCs[i])
					expectSameMessage(m, expected)
					want = append(want, m)
					again, err := w.Append(nil, m)
					Expect(err).NotTo(HaveOccurred())
					Expect(hexOf(again)).To(Equal(h), "frame %d: %s", i, jsonOf(m))
				}
				got, err := decodeAll(w, stream)
				Expect(err).NotTo(HaveOccurred())
				Expect(got).To(HaveLen(len(want)))
				for i := range got {
					expectSameMessage(got[i], want[i])
				}
			})
		}
	}
})

// echoServer is a Handler as a minimal IMP server: it answers
// get_interface with the offered interfaces and each data with a pass up
// to its end.
type echoServer struct {
	mu   sync.Mutex
	seen []conn.Message
}

func (s *echoServer) HandleMessage(c *conn.Conn, m conn.Message) error {
	s.mu.Lock()
	s.seen = append(s.seen, m)
	s.mu.Unlock()
	var err error
	switch m := m.(type) {
	case *conn.GetInterface:
		_, err = c.Send(&conn.Interface{Interfaces: m.Interfaces})
	case *conn.Data:
		_, err = c.Send(&conn.Result{ID: m.ID, Result: imp.Pass(m.Dir, m.Offset+int64(len(m.Data)))})
	}
	return err
}

var _ = Describe("A Go server connection and a Perl client over TCP", func() {
	for _, wire := range wireNames {
		It("greets with set_version(1), answers every RPC the Perl client wrote, and Perl reads every answer on "+wire, func() {
			needPerl()
			l, err := net.Listen("tcp", "127.0.0.1:0")
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(l.Close)
			f, _ := conn.ParseFormat(wire)
			srv := &echoServer{}
			connected := make(chan *conn.Conn, 1)
			go func() {
				defer GinkgoRecover()
				nc, err := l.Accept()
				Expect(err).NotTo(HaveOccurred())
				c, err := conn.Server(nc, srv, &conn.Config{Wire: conn.Options{Format: f}})
				Expect(err).NotTo(HaveOccurred())
				connected <- c
			}()

			rpcs := []string{
				`[16385,[-1,[4097,4099,4352,4113,4112,1,4,16,17,4354]]]`,
				`[16386,[-1,[4097,4099,4352,4113,4112,1,4,16,17,4354]]]`,
				`[16387,1,{"meta":{"caddr":"192.0.2.10","cport":40001,"lport":"3000"}}]`,
			}
			const datas = 300
			for i := 0; i < datas; i++ {
				rpcs = append(rpcs, fmt.Sprintf(`[16389,1,%d,null,-1,"%s"]`, i%2, bytes.Repeat([]byte("x"), i*7%1500)))
			}
			rpcs = append(rpcs, `[16388,1]`)
			var enc struct {
				Frames []string `json:"frames_hex"`
			}
			call(map[string]any{"op": "encode", "wire": wire, "rpcs": rpcs}, &enc)
			var send []byte
			for _, h := range enc.Frames {
				send = append(send, unhex(h)...)
			}
			var ex decodeReply
			call(map[string]any{"op": "exchange", "wire": wire, "addr": l.Addr().String(), "send_hex": hexOf(send), "want": 2 + datas}, &ex)

			var c *conn.Conn
			Eventually(connected).Should(Receive(&c))
			DeferCleanup(func() { c.Close(nil) })
			Expect(ex.RPCs).To(HaveLen(2 + datas))
			expectSameMessage(rpcMessage(ex.RPCs[0]), &conn.SetVersion{Version: 1})
			expectSameMessage(rpcMessage(ex.RPCs[1]), rpcMessage(`[16642,[-1,[4097,4099,4352,4113,4112,1,4,16,17,4354]]]`))
			var ends [2]int64
			for i := 0; i < datas; i++ {
				dir := i % 2
				ends[dir] += int64(i * 7 % 1500)
				// Each data's offset was undef: the pass goes to the
				// length of that chunk alone.
				expectSameMessage(rpcMessage(ex.RPCs[2+i]), &conn.Result{ID: 1, Result: imp.Pass(imp.Dir(dir), int64(i*7%1500))})
			}
			Eventually(func() int {
				srv.mu.Lock()
				defer srv.mu.Unlock()
				return len(srv.seen)
			}).WithTimeout(10 * time.Second).Should(Equal(len(rpcs)))
			srv.mu.Lock()
			defer srv.mu.Unlock()
			for i, m := range srv.seen {
				expectSameMessage(m, rpcMessage(rpcs[i]))
			}
			Expect(srv.seen[3].(*conn.Data).UndefOffset).To(BeTrue())
			Eventually(c.Done()).WithTimeout(10 * time.Second).Should(BeClosed())
			Expect(c.Err()).To(MatchError(conn.ErrPeerClosed))
		})
	}
})

type upstreamReply struct {
	Results []struct {
		RPC      string `json:"rpc"`
		Consumed int    `json:"consumed"`
		Failure  string `json:"failure"`
	} `json:"results"`
}

var _ = Describe("The real Net::IMP::Remote wire classes", Label("live"), func() {
	for _, wire := range wireNames {
		It("decode every golden RPC written by Go (default options: Sereal protocol 3) as they decode Perl's own frame, on "+wire, func() {
			needPerl()
			if !haveUpstream {
				Skip("Net::IMP::Remote is not on PERL5LIB: " + upstreamWhy)
			}
			vs, ms := goldenMessages(wire)
			f, _ := conn.ParseFormat(wire)
			w := conn.Options{Format: f}.MustWire()
			var goFrames, perlFrames []string
			for i, m := range ms {
				b, err := w.Append(nil, m)
				Expect(err).NotTo(HaveOccurred())
				goFrames = append(goFrames, hexOf(b))
				perlFrames = append(perlFrames, hexOf(vs[i].Frame(wire)))
			}
			var fromGo, fromPerl upstreamReply
			ctx := context.Background()
			_ = ctx
			call(map[string]any{"op": "upstream_decode", "wire": wire, "frames_hex": goFrames}, &fromGo)
			call(map[string]any{"op": "upstream_decode", "wire": wire, "frames_hex": perlFrames}, &fromPerl)
			Expect(fromGo.Results).To(HaveLen(len(vs)))
			for i, v := range vs {
				g, p := fromGo.Results[i], fromPerl.Results[i]
				Expect(g.Consumed).To(Equal(p.Consumed), v.Name)
				Expect(g.Failure).To(Equal(p.Failure), v.Name)
				if p.RPC != "" {
					expectSameMessage(rpcMessage(g.RPC), rpcMessage(p.RPC))
				}
				// What the golden file recorded of the upstream decoder.
				if up := v.UpstreamDecode[wire]; len(up) >= 5 && up[:5] == "fails" {
					Expect(p.Failure).NotTo(BeEmpty(), v.Name)
				}
			}
		})
	}
})
