// Package check tests an IMP RPC server for conformance to the protocol of
// Perl's Net::IMP::Remote, in the manner of h2spec: it connects to a server
// (ours, Perl's imprpc_server.pl, or anyone's), speaks the wire itself at
// frame level, and runs the scenarios that need no knowledge of the
// server's plugin:
//
//	handshake/set-version       the server speaks first, with set_version
//	handshake/version           ... and the version is 1
//	interface/none              get_interface() is answered by interface(...) with the plugin's list
//	interface/one               get_interface(one) is answered with that interface
//	interface/several           get_interface(several) echoes the matching ones, in offered order
//	analyzer/new                new_analyzer({meta => {...}}) and data: no exception, connection open
//	analyzer/unknown            data for an id never created: exception(id, "no analyzer <id>")
//	analyzer/duplicate          new_analyzer for an id in use: exception(id, "analyzer exists already")
//	analyzer/delete             delete_analyzer: no later results, and the id is unknown again
//	data/end                    end of data (empty data) in both directions is accepted
//	analyzers/many              500 analyzers at once on one connection, then deleted
//	framing/batched             several frames in one write, each answered
//	framing/split               a frame written in pieces is read whole
//	framing/large               a 1 MiB data frame is accepted
//	framing/oversized           a frame announcing more than any limit: closed (waiting warns)
//	disconnect/mid-frame        a client gone mid-frame does not harm the server
//	framing/garbage             bytes that are no frame: closed or skipped (silence warns)
//
// Each check runs on a connection of its own and gives a Result: Pass,
// Fail (with what was expected and what came), Warn (the server does what
// Perl's imprpc_server.pl does where the protocol lets it be loose, such as
// neither answering nor closing after garbage) or NotApplicable. Results
// for analyzers are never judged: a plugin may pass, replace, deny or
// decline, and every check passes whatever it does. Analyzers get the
// context Perl's data providers send, {meta => {caddr, cport, laddr,
// lport}}, and data of the first data type the server's plugin names.
//
// Run runs every check, Checks lists them; the command "imprpc conformance"
// prints their results.
package check
