package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/server"
)

// replaceSecret is Net::IMP::Pattern replacing "secret".
const replaceSecret = "Net::IMP::Pattern=string=secret&action=replace&actdata=XXXX"

var _ = Describe("A plugin that panics or blocks harms only its own analyzer", func() {
	for _, t := range targets {
		Context(t.String(), func() {
			BeforeEach(needPerl)

			It("gives an analyzer whose Data panics fatal, logged, ignores its later data, and serves the others", func() {
				ts, pc := connected(t, newProbe())
				pc.send(0, newAnalyzer(1), newAnalyzer(2), data(1, 0, "panic"), data(2, 0, "a"), data(1, 0, "b"), data(2, 0, "c"))
				got, _ := pc.recv(3)
				ids := byID(got)
				expectRPCs(ids[1], result(1, imp.Fatal("plugin panicked: probe: panic in Data")))
				expectRPCs(ids[2], result(2, imp.Pass(0, 1)), result(2, imp.Pass(0, 2)))
				Expect(pc.quiet(quietFor)).To(BeEmpty())
				Eventually(func() int {
					return len(ts.logs.find("plugin panicked", "id", "1", "panic", "panic in Data", "stack", "probeAnalyzer"))
				}).Should(Equal(1))
			})

			It("gives an analyzer whose NewAnalyzer panics fatal, logged", func() {
				ts, pc := connected(t, newProbe())
				pc.send(0, &conn.NewAnalyzer{ID: 3, Context: metaCtx(&imp.Meta{App: "panic"})}, data(3, 0, "a"), newAnalyzer(4), data(4, 0, "a"))
				got, _ := pc.recv(2)
				ids := byID(got)
				expectRPCs(ids[3], result(3, imp.Fatal("plugin panicked: probe: panic in NewAnalyzer")))
				expectRPCs(ids[4], result(4, imp.Pass(0, 1)))
				Eventually(func() int { return len(ts.logs.find("plugin panicked", "id", "3")) }).Should(Equal(1))
			})

			It("gives an analyzer whose Data call does not return within CallTimeout fatal, logged, while the others go on at once", func() {
				p := newProbe()
				ts, pc := connected(t, p, func(s *server.Server) { s.CallTimeout = 300 * time.Millisecond })
				pc.send(0, &conn.NewAnalyzer{ID: 1, Context: metaCtx(&imp.Meta{ClientAddr: "blocked"})}, newAnalyzer(2),
					data(1, 0, "block"), data(2, 0, "a"), data(1, 0, "b"))
				got, _ := pc.recv(1)
				expectRPCs(got, result(2, imp.Pass(0, 1)))
				got, _ = pc.recv(1)
				expectRPCs(got, result(1, imp.Fatal("plugin call did not return within 300ms")))
				Eventually(p.gone, 5*time.Second).Should(Receive(Equal("blocked")), "the blocked analyzer's context is done")
				Eventually(func() int { return len(ts.logs.find("plugin call timed out", "id", "1")) }).Should(Equal(1))
				pc.send(0, data(2, 0, "c"))
				got, _ = pc.recv(1)
				expectRPCs(got, result(2, imp.Pass(0, 2)))
			})
		})
	}
})

var _ = Describe("Connections", func() {
	for _, t := range targets {
		Context(t.String(), func() {
			BeforeEach(needPerl)

			It("closes a connection whose client disconnects in the middle of a frame, logged, ends its analyzers, and serves others", func() {
				p := newProbe()
				ts, pc := connected(t, p)
				pc.startAnalyzer(1, "cut")
				frame, err := conn.Options{Format: t.wire}.MustWire().Append(nil, data(1, 0, "a frame that will not end"))
				Expect(err).NotTo(HaveOccurred())
				pc.sendRaw(frame[:len(frame)/2])
				call(map[string]any{"op": "close", "conn": pc.id}, nil)
				Eventually(ts.logs.logged("connection closed", "cause", "eof inside operation"), 5*time.Second).Should(Equal(1))
				Eventually(p.gone, 5*time.Second).Should(Receive(Equal("cut")))

				pc2 := dialPerl(ts, t)
				pc2.handshake()
				pc2.startAnalyzer(1, "")
			})

			It("keeps reading from a client that stops reading, fails the analyzer holding the most with fatal, logged, and serves the others", func() {
				const limit = 1 << 20
				ts, pc := connected(t, newProbe(), func(s *server.Server) { s.MaxBuffered = limit })
				pc.send(0, newAnalyzer(1), newAnalyzer(2), data(2, 0, "a"))
				got, _ := pc.recv(1)
				expectRPCs(got, result(2, imp.Pass(0, 1)))

				By("sending 32 MiB to an analyzer that answers each byte with a byte, reading nothing")
				chunk := data(1, 0, "echo"+string(bytes.Repeat([]byte{'.'}, 64<<10-4)))
				var sent struct {
					Bytes int `json:"bytes"`
				}
				call(map[string]any{"op": "send_repeat", "conn": pc.id, "rpc": rpcText(chunk), "times": 512}, &sent)
				Expect(sent.Bytes).To(BeNumerically(">", 32<<20), "the server read everything")
				Eventually(ts.logs.logged("buffer limit exceeded", "id", "1"), 10*time.Second).Should(Equal(1))

				By("reading again: the results before the limit, then fatal; the other analyzer goes on")
				pc.send(0, data(2, 0, "b"))
				var all []conn.Message
				Eventually(func() []conn.Message {
					ms, _ := pc.quietBrief(100 * time.Millisecond)
					all = append(all, ms...)
					return byID(all)[2]
				}, 20*time.Second, time.Millisecond).Should(HaveLen(1))
				ids := byID(all)
				expectRPCs(ids[2], result(2, imp.Pass(0, 2)))
				last := ids[1][len(ids[1])-1].(*conn.Result)
				Expect(last.Result.Type).To(Equal(imp.ResultFatal))
				msg, _ := last.Result.Message()
				Expect(msg).To(HavePrefix("server buffer limit exceeded"))
				Expect(len(ids[1])).To(BeNumerically("<", 512), "the analyzer failed before it answered everything")
				for _, m := range ids[1][:len(ids[1])-1] {
					Expect(m.(*conn.Result).Result.Type).To(Equal(imp.ResultReplace))
				}
			})

			It("serves 1,000 analyzers on one connection, each getting its own results in order", func() {
				f := plugins(replaceSecret)
				_, pc := connected(t, f)
				const n = 1000
				var msgs []conn.Message
				want := map[int64][]conn.Message{}
				steps := make([][]*conn.Data, n+1)
				for id := int64(1); id <= n; id++ {
					msgs = append(msgs, newAnalyzer(id))
					steps[id] = []*conn.Data{data(id, 0, fmt.Sprintf("analyzer %d has a sec", id)), data(id, 1, "a secret reply"), data(id, 0, "ret and more"), data(id, 0, ""), data(id, 1, "")}
					want[id] = inProcess(f, nil, id, steps[id]...)
				}
				total := 0
				for step := range steps[1] {
					for id := int64(1); id <= n; id++ {
						msgs = append(msgs, steps[id][step])
					}
				}
				for _, w := range want {
					total += len(w)
				}
				pc.send(0, msgs...)
				got, _ := pc.recv(total)
				Expect(got).To(HaveLen(total))
				ids := byID(got)
				for id := int64(1); id <= n; id++ {
					expectRPCs(ids[id], want[id]...)
				}
			})

			It("serves 100 connections at once", func() {
				f := plugins(replaceSecret)
				ts := startServer(t, f)
				const n = 100
				pcs := make([]*perlConn, n)
				for i := range pcs {
					pcs[i] = dialPerl(ts, t)
				}
				want := make([][]conn.Message, n)
				for i, pc := range pcs {
					ds := []*conn.Data{data(1, 0, fmt.Sprintf("connection %d: a secret", i)), data(1, 1, "secret"), data(1, 0, "")}
					want[i] = inProcess(f, nil, 1, ds...)
					pc.send(0, newAnalyzer(1), ds[0], ds[1], ds[2])
				}
				for i, pc := range pcs {
					got, _ := pc.recv(1 + len(want[i]))
					expectRPCs(got, append([]conn.Message{&conn.SetVersion{Version: 1}}, want[i]...)...)
				}
			})

			It("shuts down gracefully: stops accepting, serves the analyzers left until the client deletes them, then closes", func() {
				ts, pc := connected(t, newProbe())
				pc.startAnalyzer(1, "")
				done := make(chan error, 1)
				go func() {
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
					defer cancel()
					done <- ts.srv.Shutdown(ctx)
				}()
				Eventually(func() error { return dialOnce(t, ts.addr) }, 5*time.Second).Should(HaveOccurred(), "the listener is closed")
				if t.transport == "unix" {
					Expect(os.Stat(ts.addr)).Error().To(HaveOccurred(), "the socket file is removed")
				}
				pc.send(0, data(1, 0, "b"))
				got, _ := pc.recv(1)
				expectRPCs(got, result(1, imp.Pass(0, 2)))
				Consistently(done, quietFor).ShouldNot(Receive())
				pc.send(0, &conn.DeleteAnalyzer{ID: 1})
				Expect(pc.waitClosed()).To(BeEmpty())
				Eventually(done, 5*time.Second).Should(Receive(BeNil()))
			})

			It("shuts down within its context: connections with analyzers left are closed when it ends", func() {
				p := newProbe()
				ts, pc := connected(t, p)
				pc.startAnalyzer(1, "left")
				ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
				defer cancel()
				Expect(ts.srv.Shutdown(ctx)).To(MatchError(context.DeadlineExceeded))
				Expect(pc.waitClosed()).To(BeEmpty())
				Eventually(p.gone).Should(Receive(Equal("left")))
			})
		})
	}
})

// dialOnce connects to addr and closes the connection at once.
func dialOnce(t target, addr string) error {
	network := "tcp"
	if t.transport == "unix" {
		network = "unix"
	}
	c, err := net.DialTimeout(network, addr, time.Second)
	if err == nil {
		c.Close()
	}
	return err
}
