package live

import (
	"net"
	"strings"
	"testing"

	"github.com/goimp/imprpc/conn"
)

func TestImpl(t *testing.T) {
	if got := Impl(conn.Storable); got != "Storable" {
		t.Errorf("Impl(Storable) = %q", got)
	}
	if got := Impl(conn.Sereal); got != "Sereal" {
		t.Errorf("Impl(Sereal) = %q", got)
	}
}

func TestHaveServerMissingModule(t *testing.T) {
	ok, why := HaveServer("ImpFixture::No::Such::Module")
	if ok || !strings.Contains(why, "ImpFixture::No::Such::Module") {
		t.Fatalf("HaveServer(a missing module) = %v, %q", ok, why)
	}
}

func TestStartServerNoSpec(t *testing.T) {
	if s, err := StartServer(ServerOptions{}); err == nil {
		s.Stop()
		t.Fatal("StartServer without a spec succeeded")
	}
}

// TestServer runs the real imprpc_server.pl when it can run here (see
// HaveServer), stops it and starts it again on the same address.
func TestServer(t *testing.T) {
	if ok, why := HaveServer("Net::IMP", "Net::IMP::Remote", "Net::IMP::Pattern", "AnyEvent", "Sereal::Encoder"); !ok {
		if Required() {
			t.Fatalf("imprpc_server.pl is required (%s=1) but cannot run: %s", RequireEnv, why)
		}
		t.Skipf("imprpc_server.pl cannot run: %s", why)
	}
	var stderr strings.Builder
	s, err := StartServer(ServerOptions{
		Specs:  []string{"Net::IMP::Pattern=rx=secret&rxlen=6&action=deny&actdata=no"},
		Wire:   conn.Sereal,
		Stderr: &stderr,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	addr := s.Addr()
	dial := func() error {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := dial(); err != nil {
		t.Fatalf("StartServer returned before %s took connections: %v", addr, err)
	}
	s.Stop()
	if err := dial(); err == nil {
		t.Fatalf("%s takes connections after Stop", addr)
	}
	s.Stop() // a second Stop does nothing
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if s.Addr() != addr {
		t.Fatalf("address changed from %s to %s on Start", addr, s.Addr())
	}
	if err := dial(); err != nil {
		t.Fatalf("after Start: %v", err)
	}
	if err := s.Start(); err != nil { // a running server: nothing happens
		t.Fatal(err)
	}
}

// TestServerFailsToListen asks imprpc_server.pl for an address it cannot
// take: StartServer must return an error, not hang.
func TestServerFailsToListen(t *testing.T) {
	if ok, why := HaveServer("Net::IMP", "Net::IMP::Remote", "Net::IMP::Pattern", "AnyEvent"); !ok {
		t.Skipf("imprpc_server.pl cannot run: %s", why)
	}
	s, err := StartServer(ServerOptions{Specs: []string{"Net::IMP::Pattern=rx=x&rxlen=1&action=deny&actdata=no"}, Addr: "192.0.2.1:1"})
	if err == nil {
		s.Stop()
		t.Fatal("StartServer on an address not of this host succeeded")
	}
	t.Log(err)
	if !strings.HasPrefix(err.Error(), "live: ") || !strings.Contains(err.Error(), "exited") {
		t.Errorf("error %q does not name the package", err)
	}
}
