package relay_test

import (
	"net"
	"strconv"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/conn"
)

// step is one action at one end of a relayed connection and what it must
// bring about.
type step struct {
	from  side   // the end that acts
	write string // what it writes, in one write
	shut  bool   // it closes its write side instead
	want  string // what the other end receives of it
	back  string // what the acting end receives back (reject's reply)
}

// send is a step: from writes data, the other end receives want.
func send(from side, data, want string) step { return step{from: from, write: data, want: want} }

// sendBack is send where the writer also receives back.
func sendBack(from side, data, want, back string) step {
	return step{from: from, write: data, want: want, back: back}
}

// shut is a step: from closes its write side, the other end sees the end.
func shut(from side) step { return step{from: from, shut: true} }

// run makes a connection through the shared relay's route to plugin on
// wire w and takes the steps, each one's bytes relayed before the next
// is written. The steps must end the connection (by shutting both
// sides, or by a deny); then everything each end received is final and
// must be exactly what the steps want.
func run(plugin string, w conn.Format, steps []step) {
	GinkgoHelper()
	needRelay(w)
	rc := dial(routes[key(plugin, w)])
	var want [2]string
	for i, s := range steps {
		other := 1 - s.from
		if s.shut {
			Expect(rc[s.from].c.CloseWrite()).To(Succeed())
			Eventually(rc[other].ended).Should(BeTrue(), "step %d: %s sees the end of %s's data", i, other, s.from)
			continue
		}
		want[other] += s.want
		want[s.from] += s.back
		rc[s.from].write(s.write)
		Eventually(rc[other].received).Should(Equal(want[other]), "step %d: %s receives what %s wrote", i, other, s.from)
		Eventually(rc[s.from].received).Should(Equal(want[s.from]), "step %d: %s receives its reply", i, s.from)
	}
	for _, sd := range []side{client, target} {
		Eventually(rc[sd].ended).Should(BeTrue(), "the connection of %s has ended", sd)
		Expect(rc[sd].received()).To(Equal(want[sd]), "all that %s received", sd)
	}
}

// onBothWires returns an entry per wire for run.
func onBothWires(name, plugin string, steps ...step) []TableEntry {
	var es []TableEntry
	for _, w := range wires {
		es = append(es, Entry(name+" ("+w.String()+" wire)", plugin, w, steps))
	}
	return es
}

var _ = DescribeTable("relayed bytes through imp-relay.pl with our server inspecting them", run,
	onBothWires("a plugin that passes both directions to the end: bytes pass unchanged both ways, and half-closes are relayed", "pass",
		send(client, "hello", "hello"),
		send(target, "world", "world"),
		send(client, "a secret b", "a secret b"),
		send(target, "secret", "secret"),
		shut(client),
		send(target, "bye", "bye"),
		shut(target)),
	onBothWires("replace from the client: a chunk that is the match arrives replaced, also right after another match, and the rest passes", "replace",
		send(client, "secret", "CENSORED"),
		send(client, "secret", "CENSORED"),
		send(target, "hello world", "hello world"),
		send(client, "plain data", "plain data"),
		shut(client),
		shut(target)),
	onBothWires("replace from the target: the match arrives replaced at the client, and the rest passes", "replace",
		send(target, "secret", "CENSORED"),
		send(client, "hello world", "hello world"),
		send(target, "plain data", "plain data"),
		shut(target),
		shut(client)),
	onBothWires("reject from the client: nothing of the match reaches the target, the client gets the reply, and later data passes", "reject",
		sendBack(client, "secret", "", "NO"),
		send(client, "hello world", "hello world"),
		send(target, "reply text", "reply text"),
		shut(client),
		shut(target)),
	onBothWires("reject from the target: nothing of the match reaches the client, the target gets the reply, and later data passes", "reject",
		sendBack(target, "secret", "", "NO"),
		send(target, "hello world", "hello world"),
		send(client, "reply text", "reply text"),
		shut(target),
		shut(client)),
	onBothWires("deny from the client: both connections are closed and nothing of the match reaches the target", "deny",
		send(target, "hello world", "hello world"),
		send(client, "secret", "")),
	onBothWires("deny from the target: both connections are closed and nothing of the match reaches the client", "deny",
		send(client, "hello world", "hello world"),
		send(target, "secret", "")),
)

var _ = DescribeTable("the context imp-relay.pl gives new_analyzer reaches the plugin, with the connection's addresses",
	func(w conn.Format) {
		needRelay(w)
		r := routes[key("pass", w)]
		rc := dial(r)
		caddr := rc[client].c.LocalAddr().(*net.TCPAddr)
		saddr := rc[target].c.LocalAddr().(*net.TCPAddr)
		_, lport, err := net.SplitHostPort(r.listen)
		Expect(err).NotTo(HaveOccurred())
		Eventually(contexts.of(caddr.Port)).ShouldNot(BeNil())
		meta := contexts.of(caddr.Port)()
		Expect(meta.App).To(Equal("imp_proxy"))
		Expect(meta.ClientAddr).To(Equal(caddr.IP.String()))
		Expect(meta.ServerAddr).To(Equal(saddr.IP.String()))
		Expect(meta.ServerPort).To(Equal(saddr.Port))
		Expect(meta.ListenAddr).To(Equal("127.0.0.1"))
		Expect(strconv.Itoa(meta.ListenPort)).To(Equal(lport))
	},
	Entry("storable wire", conn.Storable),
	Entry("sereal wire", conn.Sereal),
)
