// Package standin runs perl-fixtures/rpc-server.pl, the Perl stand-in
// for imprpc_server.pl: an IMP RPC server written with Perl's own
// Storable and Sereal modules that behaves as imprpc_server.pl does,
// with plugins of its own, so that it needs no Net::IMP. It needs Perl
// with Storable, Sereal and JSON::PP ([Modules]).
package standin

import (
	"context"
	"fmt"
	"io"

	"github.com/goimp/imprpc/conformance/internal/live"
	"github.com/goimp/imprpc/conformance/internal/perlproc"
	"github.com/goimp/imprpc/conn"
)

// Modules are the Perl modules the stand-in needs, for
// [perlproc.HaveModule].
var Modules = []string{"Storable", "Sereal::Encoder", "Sereal::Decoder", "JSON::PP"}

// Start runs the stand-in with the plugin spec (its -M, such as
// "decline" or "pattern=string=secret&action=deny&actdata=denied") on
// wire w, listening on a free loopback TCP port, and returns its control
// channel and the address it listens on. stderr, if not nil, gets what
// it writes there. The caller stops it with [perlproc.Proc.Close]; the
// request {"op": "drop"} breaks its client connections.
func Start(ctx context.Context, spec string, w conn.Format, stderr io.Writer) (p *perlproc.Proc, addr string, err error) {
	p, err = perlproc.Start("rpc-server.pl", perlproc.Options{
		Args:   []string{"-M", spec, "-I", live.Impl(w), "127.0.0.1:0"},
		Stderr: stderr,
	})
	if err != nil {
		return nil, "", err
	}
	var r struct{ Addrs []string }
	if err := p.Call(ctx, map[string]any{"op": "addrs"}, &r); err != nil {
		p.Close()
		return nil, "", fmt.Errorf("standin: %s: %w", spec, err)
	}
	if len(r.Addrs) == 0 {
		p.Close()
		return nil, "", fmt.Errorf("standin: %s: rpc-server.pl listens nowhere", spec)
	}
	return p, r.Addrs[0], nil
}
