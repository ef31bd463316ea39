// Package client is the data provider's side of Perl's IMP RPC
// (Net::IMP::Remote): it hands the analysis of connections to IMP plugins
// that run in an IMP RPC server, Perl's imprpc_server.pl or "imprpc
// serve", with the behaviour Net::IMP::Remote gives Perl data providers
// and the differences listed below.
//
// A Factory is one connection to the server (Dial), over which all its
// analyzers are multiplexed. GetInterface asks which interfaces the
// server's plugin supports and is the one call that waits for the
// server; SetInterface, NewAnalyzer and an analyzer's Data and Close
// never wait for it (Data waits only for room, see Options):
//
//	f, err := client.Dial(ctx, "127.0.0.1:2000", client.Options{})
//	...
//	a, err := f.NewAnalyzer(ctx, client.Meta(c.RemoteAddr(), c.LocalAddr(), nil).Context())
//	go func() {
//		for r := range a.Results() { ... act on pass, replace, deny ... }
//		// a.Err() tells why it ended: client.ErrFinished, ...
//	}()
//	err = a.Data(ctx, imp.FromClient, 0, imp.DataStream, buf)
//
// # Results and the end of an analyzer
//
// Each analyzer delivers its results through one channel, Results, in
// the order the server sent them; it is closed once the analyzer has
// ended and its results have been received. Every analyzer ends, and Err
// says why:
//
//	ErrFinished            deny, drop or fatal; or both directions passed (or replaced)
//	                       to their end: pass(dir, -1), or up to the end of data sent
//	ErrDeclined            the first two results were pass(0, -1) and pass(1, -1),
//	                       the answer of a server whose plugin declined
//	ErrClosed              Close (of the analyzer or the factory)
//	*ExceptionError        exception(id, msg) for this analyzer; with ID 0
//	                       exception(0, msg), which ends the connection and all its analyzers
//	*ConnectionLostError   the connection broke (matches ErrConnectionLost)
//	*DialError             the server could not be reached when the analyzer was made
//	*OverflowError         its results were not received and reached MaxPendingResults
//
// When an analyzer finishes, declines, gets an exception or overflows,
// the client deletes it on the server (delete_analyzer); results the
// server had sent before it saw that are dropped. pause and continue are
// delivered like every other result: the caller decides what to do.
//
// # Connections, failures and reconnection
//
// Addresses are "host:port" or "[v6addr]:port" for TCP (TCP_NODELAY on,
// frames written in batches) and a path containing "/" for a UNIX
// socket. The wire is Storable or Sereal (Options.Wire), as the server's
// -I. When the connection breaks, the next GetInterface, SetInterface or
// NewAnalyzer connects again, sends the last interface given to
// SetInterface once, and numbers analyzers from 1 again, as Perl's
// client does; after a failed attempt, calls fail at once until a
// backoff has passed (Options.Reconnect) instead of each waiting up to
// 10 seconds. While the server cannot be reached, each new analyzer gets
// what Net::IMP::Remote's fail option gives: with FailHard
// fatal("connect to IMP server failed (Connection refused)"), with
// FailSoft log(0, 0, 0, error, "connect to IMP server failed (Connection
// refused): pass all"), pass(0, -1) and pass(1, -1); the text in
// parentheses is the C library's, as Perl's $! shows it.
//
// # Memory and backpressure
//
// The client reads from the server at all times (a Perl server whose
// send buffer fills closes the connection), and holds what it reads
// within limits: Data waits (or fails, Options.WhenFull) while more than
// Options.MaxQueued bytes wait to be written or Options.ResultBuffer
// results of the analyzer wait to be received; an analyzer whose
// undelivered results reach Options.MaxPendingResults is ended.
//
// # Differences from Net::IMP::Remote
//
// Each is listed with the test that shows it in the repository's
// docs/conformance.md ("Client"): analyzers end with an error when the
// connection breaks (Perl's wait forever and drop their data); results
// and exceptions for unknown analyzers are logged as warnings and
// counted (Stats); GetInterface handles other RPCs that arrive while it
// waits (Perl's closes the connection); after an exception the analyzer
// sends nothing more (Perl's still sends its data); reconnection backs
// off instead of blocking, and re-sends the last interface once (Perl's
// twice when set_interface itself reconnects); GetInterface on an
// unreachable server returns the error (Perl's an empty list); Data
// refuses data types the server cannot know.
package client
