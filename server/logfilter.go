package server

import (
	"context"
	"fmt"
	"log/slog"
	"path"
	"strings"
)

// Topic returns what a log record of the server is about, the name that
// a debug filter (DebugFilter, imprpc serve -d=GLOB) matches:
//
//	rpc.<op>          an RPC read or written (rpc.data, rpc.result, rpc.new_analyzer, ...),
//	                  logged by package conn with the attribute rpc
//	server.conn       connections accepted and closed (conn's "connection closed" too)
//	server.analyzer   analyzers made, declined, failed and deleted
//	server.interface  get_interface and set_interface
//	server.client     what a client sent wrong, and exceptions it sent
//	server.listen     listeners
//
// A record with an attribute "topic" has that topic; an RPC record its op;
// any other record "server".
func Topic(r slog.Record) string {
	topic := ""
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "topic":
			topic = a.Value.String()
			return false
		case "rpc":
			topic = "rpc." + rpcOp(a.Value.String())
			return false
		}
		return true
	})
	switch {
	case topic != "":
		return topic
	case strings.HasPrefix(r.Message, "imprpc connection"):
		return topicConn
	}
	return "server"
}

// rpcOp returns the op of an RPC in the JSON form conn logs:
// ["data",1,...] gives data.
func rpcOp(j string) string {
	j = strings.TrimPrefix(j, "[")
	if strings.HasPrefix(j, `"`) {
		if i := strings.IndexByte(j[1:], '"'); i >= 0 {
			return j[1 : 1+i]
		}
	}
	if i := strings.IndexAny(j, ",]"); i >= 0 {
		return j[:i] // an op without a name
	}
	return j
}

// DebugFilter returns a handler that passes to h every record above
// debug level, and the debug records whose Topic matches one of globs
// (as imprpc_server.pl's -d=GLOB selects the Perl packages whose debug
// output is shown). A glob is matched against the whole topic; "*"
// matches any run of characters, "?" one character, "[...]" a class
// (path.Match, where "/" has no special meaning in topics). No globs
// means every debug record. The handler is enabled for debug records
// when h is.
func DebugFilter(h slog.Handler, globs ...string) (slog.Handler, error) {
	for _, g := range globs {
		if _, err := path.Match(g, ""); err != nil {
			return nil, fmt.Errorf("server: bad debug glob %q: %w", g, err)
		}
	}
	return &debugFilter{h: h, globs: globs}, nil
}

type debugFilter struct {
	h     slog.Handler
	globs []string
}

// Enabled reports whether h is enabled for the level.
func (f *debugFilter) Enabled(ctx context.Context, l slog.Level) bool { return f.h.Enabled(ctx, l) }

// Handle passes r on unless it is a debug record of an unselected topic.
func (f *debugFilter) Handle(ctx context.Context, r slog.Record) error {
	if r.Level <= slog.LevelDebug && len(f.globs) > 0 && !f.selected(Topic(r)) {
		return nil
	}
	return f.h.Handle(ctx, r)
}

func (f *debugFilter) selected(topic string) bool {
	for _, g := range f.globs {
		if ok, _ := path.Match(g, topic); ok {
			return true
		}
	}
	return false
}

// WithAttrs wraps h's.
func (f *debugFilter) WithAttrs(as []slog.Attr) slog.Handler {
	return &debugFilter{h: f.h.WithAttrs(as), globs: f.globs}
}

// WithGroup wraps h's.
func (f *debugFilter) WithGroup(name string) slog.Handler {
	return &debugFilter{h: f.h.WithGroup(name), globs: f.globs}
}
