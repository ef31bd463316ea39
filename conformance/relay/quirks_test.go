package relay_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"

	"github.com/goimp/imprpc/conn"
)

// What imp-relay.pl gets wrong, each shown by a connection whose bytes
// differ from what the results our server sent mean. The wanted bytes are
// what imp-relay.pl does, not what it should do (said in each name).

var _ = DescribeTable("imp-relay.pl's own bugs", run,
	onBothWires("a pass forwards its whole read buffer: denied data read together with passed data reaches the target (should get only \"a \")", "deny",
		send(client, "a secret b", "a secret b")),
	onBothWires("a pass forwards its whole read buffer: after bytes the plugin held back, a denied chunk written on its own reaches the target (should get only \"hello world\")", "deny",
		send(client, "hello world", "hello world"),
		send(client, "secret", "secret")),
	onBothWires("a pass forwards its whole read buffer: after bytes the plugin held back, a replaced chunk written on its own arrives unchanged, then its replacement (should be CENSORED only)", "replace",
		send(client, "hello world", "hello world"),
		send(client, "secret", "secretCENSORED"),
		shut(client),
		shut(target)),
	onBothWires("a replace swaps its whole read buffer: bytes after the match in the same read are lost (should get CENSOREDXYZ)", "replace",
		send(client, "secretXYZ", "CENSORED"),
		send(client, "hello world", "hello world"),
		shut(client),
		shut(target)),
	onBothWires("it closes without waiting for outstanding results: bytes the plugin holds when both sides have ended never arrive (should get \"hi\")", "replace",
		shut(client),
		send(target, "hi", ""),
		shut(target)),
)

var _ = DescribeTable("imp-relay.pl's own bugs: a replace for data a pass has already forwarded",
	func(w conn.Format) {
		needRelay(w)
		// A relay of its own: the error interrupts its IMP connection's
		// read handler, which must not disturb other specs.
		r := newRoute("replace", w)
		p := startRelay(r)
		rc := dial(r)
		rc[client].write("a secret b")
		Eventually(rc[target].received).Should(Equal("a secret b"), "the match reaches the target unchanged")
		Eventually(p.stderr).Should(gbytes.Say("cannot replace already passed data"))
	},
	Entry("dies in the callback with \"cannot replace already passed data\", and the match reaches the target unchanged (storable wire)", conn.Storable),
	Entry("dies in the callback with \"cannot replace already passed data\", and the match reaches the target unchanged (sereal wire)", conn.Sereal),
)
