package standin

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/goimp/imprpc/conformance/internal/perlproc"
	"github.com/goimp/imprpc/conn"
)

func TestStart(t *testing.T) {
	if ok, why := perlproc.HaveModule(Modules...); !ok {
		t.Skipf("the stand-in cannot run: %s", why)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, w := range []conn.Format{conn.Storable, conn.Sereal} {
		p, addr, err := Start(ctx, "decline", w, nil)
		if err != nil {
			t.Fatal(err)
		}
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("%s: %v", w, err)
		}
		c.Close()
		if err := p.Close(); err != nil {
			t.Fatalf("%s: %v", w, err)
		}
	}
}

func TestStartBadSpec(t *testing.T) {
	if ok, why := perlproc.HaveModule(Modules...); !ok {
		t.Skipf("the stand-in cannot run: %s", why)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if p, addr, err := Start(ctx, "no-such-plugin", conn.Storable, nil); err == nil {
		p.Close()
		t.Fatalf("Start with an unknown plugin listens on %s", addr)
	}
}
