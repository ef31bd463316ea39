// Package remoteclient drives the real Net::IMP::Remote client of the
// live tier: perl-fixtures/rpc-client.pl holds Net::IMP::Remote factories
// and their analyzers (ImpFixture::RemoteClient), each run by an AnyEvent
// loop as a data provider runs them, and answers the remote_* requests of
// its line protocol. A [Client] is one such factory, connected to an IMP
// RPC server.
//
// Interfaces travel in the form of [imptext.Interface], contexts and
// results as tagged JSON (perl/taggedjson). Every method takes the
// context that bounds its request to the script.
package remoteclient

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/goimp/imprpc/conformance/internal/imptext"
	"github.com/goimp/imprpc/conformance/internal/live"
	"github.com/goimp/imprpc/conformance/internal/perlproc"
	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/imp/imptest"
	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/perl/taggedjson"
)

// Client is a Net::IMP::Remote factory inside rpc-client.pl.
type Client struct {
	p  *perlproc.Proc
	id int
}

// New has rpc-client.pl (running as p) make a Net::IMP::Remote factory
// for the server at addr (host:port or a UNIX socket path) on wire w.
func New(ctx context.Context, p *perlproc.Proc, addr string, w conn.Format) (*Client, error) {
	var r struct {
		Client int `json:"client"`
	}
	if err := p.Call(ctx, map[string]any{"op": "remote_new", "addr": addr, "impl": live.Impl(w)}, &r); err != nil {
		return nil, fmt.Errorf("remoteclient: remote_new %s: %w", addr, err)
	}
	return &Client{p: p, id: r.Client}, nil
}

// call sends a request about c and reads the reply into reply (if not
// nil).
func (c *Client) call(ctx context.Context, req map[string]any, reply any) error {
	req["client"] = c.id
	if err := c.p.Call(ctx, req, reply); err != nil {
		return fmt.Errorf("remoteclient: %s, client %d: %w", req["op"], c.id, err)
	}
	return nil
}

// GetInterface calls the factory's get_interface with the interfaces a
// data provider offers (none: ask for all) and returns what it supports.
func (c *Client) GetInterface(ctx context.Context, offered ...imp.Interface) ([]imp.Interface, error) {
	texts := make([]string, len(offered))
	for k, i := range offered {
		t, err := imptext.Interface(i)
		if err != nil {
			return nil, err
		}
		texts[k] = t
	}
	var r struct {
		Interfaces []string `json:"interfaces"`
	}
	if err := c.call(ctx, map[string]any{"op": "remote_get_interface", "interfaces": texts}, &r); err != nil {
		return nil, err
	}
	out := []imp.Interface{}
	for _, t := range r.Interfaces {
		i, err := imptext.ParseInterface(t)
		if err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, nil
}

// SetInterface calls the factory's set_interface with i; ok tells
// whether Net::IMP::Remote returned a factory (it returns none for an
// interface the plugin does not support).
func (c *Client) SetInterface(ctx context.Context, i imp.Interface) (ok bool, err error) {
	t, err := imptext.Interface(i)
	if err != nil {
		return false, err
	}
	var r struct {
		OK int `json:"ok"`
	}
	if err := c.call(ctx, map[string]any{"op": "remote_set_interface", "interface": t}, &r); err != nil {
		return false, err
	}
	return r.OK == 1, nil
}

// NewAnalyzer makes an analyzer with the context analyzerCtx (a reference
// to a hash, or nil for none) and returns its handle.
func (c *Client) NewAnalyzer(ctx context.Context, analyzerCtx perl.Value) (int, error) {
	req := map[string]any{"op": "remote_new_analyzer"}
	if analyzerCtx != nil {
		b, err := taggedjson.Marshal(analyzerCtx)
		if err != nil {
			return 0, fmt.Errorf("remoteclient: context of a new analyzer: %w", err)
		}
		req["context"] = string(b)
	}
	var r struct {
		Analyzer int `json:"analyzer"`
	}
	if err := c.call(ctx, req, &r); err != nil {
		return 0, err
	}
	return r.Analyzer, nil
}

// Data gives analyzer h a chunk of data (its data method).
func (c *Client) Data(ctx context.Context, h int, d imptest.Chunk) error {
	return c.call(ctx, map[string]any{"op": "remote_data", "analyzer": h, "dir": int(d.Dir), "offset": d.Offset,
		"type": int64(d.Type), "data_hex": hex.EncodeToString(d.Data)}, nil)
}

// CloseAnalyzer drops analyzer h.
func (c *Client) CloseAnalyzer(ctx context.Context, h int) error {
	return c.call(ctx, map[string]any{"op": "remote_close_analyzer", "analyzer": h}, nil)
}

// RunOptions say how long [Client.Run] runs the event loop: until every
// analyzer in Want has that many results and Warnings warnings came, or
// Idle passed without a result, or Timeout passed.
type RunOptions struct {
	// Want maps analyzer handles to the number of results to wait for.
	Want map[int]int
	// Warnings is the number of warnings to wait for.
	Warnings int
	// Idle, if not 0, ends the run when no result came for that long.
	Idle time.Duration
	// Timeout ends the run; 0 means rpc-client.pl's default, 20 seconds.
	Timeout time.Duration
}

// RunResult is what one [Client.Run] collected.
type RunResult struct {
	// Results are the results that came, as tagged JSON of [type,
	// args...], by analyzer handle (for the handles of Want).
	Results map[int][]string
	// Warnings are the lines Net::IMP::Remote warned.
	Warnings []string
	// Why is why the run ended: "done", "idle" or "timeout".
	Why string
}

// Run runs the event loop as opts say and returns what came.
func (c *Client) Run(ctx context.Context, opts RunOptions) (RunResult, error) {
	want := map[string]int{}
	for h, n := range opts.Want {
		want[strconv.Itoa(h)] = n
	}
	req := map[string]any{"op": "remote_run", "want": want, "warnings": opts.Warnings}
	if opts.Idle > 0 {
		req["idle"] = opts.Idle.Seconds()
	}
	if opts.Timeout > 0 {
		req["timeout"] = opts.Timeout.Seconds()
	}
	var r struct {
		Results  map[string][]string `json:"results"`
		Warnings []string            `json:"warnings"`
		Why      string              `json:"why"`
	}
	if err := c.call(ctx, req, &r); err != nil {
		return RunResult{}, err
	}
	out := RunResult{Results: map[int][]string{}, Warnings: r.Warnings, Why: r.Why}
	for hs, rs := range r.Results {
		h, err := strconv.Atoi(hs)
		if err != nil {
			return RunResult{}, fmt.Errorf("remoteclient: remote_run, client %d: analyzer handle %q", c.id, hs)
		}
		out.Results[h] = rs
	}
	return out, nil
}

// Close drops the factory and its analyzers; its connection closes.
func (c *Client) Close(ctx context.Context) error {
	return c.call(ctx, map[string]any{"op": "remote_close"}, nil)
}
