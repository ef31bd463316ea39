package client

import (
	"net"
	"net/netip"

	"github.com/goimp/imprpc/imp"
)

// Meta describes an inspected connection by its addresses, as Perl data
// providers do in the context of new_analyzer: client is the address of
// the peer that connected (caddr, cport), local the address it connected
// to (laddr, lport), server the address of the upstream server (saddr,
// sport). A nil address is left out; IPv4 addresses mapped into IPv6
// are written as IPv4, as imp-relay.pl writes them. Set App, or replace
// Raw, for more; Meta(...).Context() is the context NewAnalyzer takes:
// {meta => {caddr => "192.0.2.10", cport => 40001, ...}}, ports as
// integers.
func Meta(client, local, server net.Addr) *imp.Meta {
	m := &imp.Meta{}
	m.ClientAddr, m.ClientPort = splitAddr(client)
	m.ListenAddr, m.ListenPort = splitAddr(local)
	m.ServerAddr, m.ServerPort = splitAddr(server)
	return m
}

// splitAddr returns the host and port of a network address.
func splitAddr(a net.Addr) (string, int) {
	var ap netip.AddrPort
	switch a := a.(type) {
	case nil:
		return "", 0
	case *net.TCPAddr:
		if a == nil {
			return "", 0
		}
		ap = a.AddrPort()
	case *net.UDPAddr:
		if a == nil {
			return "", 0
		}
		ap = a.AddrPort()
	case *net.UnixAddr:
		if a == nil {
			return "", 0
		}
		return a.Name, 0
	default:
		var err error
		if ap, err = netip.ParseAddrPort(a.String()); err != nil {
			return a.String(), 0
		}
	}
	return ap.Addr().Unmap().String(), int(ap.Port())
}
