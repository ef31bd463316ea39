// Package server is an IMP RPC server: it serves IMP plugins (package imp)
// to data providers that speak Net::IMP::Remote's protocol, such as Perl's
// imp-relay.pl or App::HTTP_Proxy_IMP configured with
// -M Net::IMP::Remote=addr=host:port, in place of Perl's imprpc_server.pl.
// Nothing on the Perl side changes.
//
// A Server is configured by its fields and runs like net/http's:
//
//	srv := &server.Server{Factory: f, Logger: slog.Default()}
//	err := srv.ListenAndServe("127.0.0.1:2000")   // or a UNIX socket path containing "/"
//
// Serve takes any net.Listener and may run for several listeners at once;
// Shutdown stops accepting, lets the clients finish with their analyzers
// and closes the connections; Close closes everything at once. Both make
// Serve return ErrServerClosed.
//
// # Behaviour per connection
//
// Each connection is what Net::IMP::Remote calls a factory: the server
// sends set_version(1) first, then answers
//
//   - get_interface with interface(...), by Net::IMP::Base's matching rules
//     (imp.GetInterface: the plugin's own list when nothing is offered);
//   - set_interface with nothing, or with exception(0, "set_interface:
//     unsupported interface"), keeping the interface set before;
//   - new_analyzer(id, context) by making an analyzer of the plugin, with
//     exception(id, "analyzer exists already") for an id in use, and
//     result(id, pass, 0, -1) and result(id, pass, 1, -1) when the plugin
//     declines (the analyzer's later data is accepted and ignored);
//   - data for an unknown id with exception(id, "no analyzer <id>");
//   - delete_analyzer with nothing: the analyzer is gone, and no result of
//     it is sent after the delete was read.
//
// An exception from the client is logged. An interface, a result or an
// unknown op from the client closes the connection, with the reason
// logged, as Perl's server does ("no handler for return type").
//
// Where Perl's server misbehaves this one answers: new_analyzer with id 0
// gets exception(0, ...) (Perl makes an analyzer whose results go out with
// id 0), a context with top-level keys other than meta gets
// exception(id, ...) naming the keys (Perl dies without a reply), data of
// a type the plugin's interfaces do not cover gets exception(id, ...), and
// an error of the plugin's NewAnalyzer gets exception(id, ...). After such
// an exception the analyzer's data is ignored until the client deletes it
// (Net::IMP::Remote deletes an analyzer when it gets an exception for it).
// The repository's docs/conformance.md lists every difference with the
// test that shows it.
//
// # Analyzers
//
// Results go out in the order each analyzer emits them. The analyzers of
// one connection, and of all connections, run concurrently on all cores:
// each analyzer has a queue of the data read for it, drained in batches by
// a goroutine that exists only while there is work, so that the reading
// goroutine never waits for a plugin. A plugin that panics, or whose call
// does not return within CallTimeout, harms only its own analyzer: it gets
// fatal(reason), the problem is logged, and its later data is ignored.
//
// The server never stops reading from a client: a Perl client closes its
// connection when its own send buffer fills. Instead it bounds what it
// holds for each connection (data read and not yet analyzed, results
// queued and not yet written) by MaxBuffered: past it, the analyzers that
// hold the most are failed with fatal, logged, until the rest fits.
//
// Logs go to Logger (log/slog): connections and problems at info and
// warn, every RPC read and written at debug (see conn.Config.Logger),
// with the attribute "topic" saying what a record is about (see Topic).
package server
