// Package conn is the IMP RPC wire of Perl's Net::IMP::Remote in Go: the
// messages, the two wire formats (Storable and Sereal), byte for byte as
// the Perl modules write them, and a multiplexed connection that servers
// and clients are built on.
//
// # Messages
//
// Each op has a type holding its arguments, keeping what a Perl peer can
// vary (an undef offset, a UTF-8 string, a context value that is a string
// or an integer, the extra key/value pairs of a result), so that a message
// decoded from Perl's bytes encodes to the same bytes again:
//
//	op               code    Go                 arguments
//	get_interface    0x4001  *GetInterface      []imp.Interface
//	set_interface    0x4002  *SetInterface      imp.Interface
//	new_analyzer     0x4003  *NewAnalyzer       ID, Context (perl.Value: {meta => {...}})
//	delete_analyzer  0x4004  *DeleteAnalyzer    ID
//	data             0x4005  *Data              ID, Dir, Offset (+UndefOffset), Type, Data (+UTF8)
//	set_version      0x4006  *SetVersion        Version
//	exception        0x4101  *Exception         ID, Message (perl.Value), NoID
//	interface        0x4102  *Interface         []imp.Interface
//	result           0x4103  *Result            ID, imp.Result (type and perl.Value arguments)
//	(any other)              *Raw               Code, []perl.Value
//
// Integers arrive as integers or, from Storable's network order (which
// writes integers outside 32 bits as strings), as decimal strings; both
// read as integers, and the Storable encoder writes such integers as the
// same strings again. Perl's asymmetry in interface lists is kept: a nil
// Results is written [dtype] in get_interface and interface but
// [dtype, []] in set_interface, as Perl writes them; both forms are read.
// Data types are any integer: types a peer does not know are carried
// through unchanged (unlike Perl, whose decoder dies with "cannot map N
// to known data type" on a type not defined in its process; name extra
// types with imp.DefineDataTypes).
//
// Args and ParseMessage convert between messages and their arguments as
// Perl values; AppendJSON and ParseJSON give the JSON form "imprpc frames"
// prints.
//
// # Wires
//
// Options.Wire returns a Wire for a Format: Storable (op:u16, length:u32
// in the sender's byte order, then nfreeze of the arguments; headers are
// written little-endian unless Options.BigEndian, and a Reader recognises
// the order of the frames it reads from the first one) or Sereal (one
// document holding a reference to [op, args...] per RPC, back to back,
// protocol 3 by default, 5 for Perl's Sereal::Encoder 5.x bytes). A Wire
// appends frames to a []byte (data frames and plain results without
// allocating) and decodes them; Wire.NewReader reads them one at a time
// from a stream, however it is split, never allocating for a frame before
// knowing it fits Options.MaxFrameSize (64 MiB by default). The end of
// the stream between frames is io.EOF, inside a frame a *FrameError
// "eof inside operation". Bad frames give typed errors naming the offset
// and op (*FrameError, *LimitError, *PayloadError, *UnknownOpError,
// *ArgError); Recoverable tells those after which reading can go on.
//
// Storable is the robust wire against Perl peers: its frames announce
// their length, so a Perl reader waits for the whole frame. Perl's
// Sereal::Decoder (5.003 and 5.009) misreads a document when the bytes it
// has end right after a VARINT, ZIGZAG or array-count tag and nothing else
// was due: it "decodes" a 0 there, and the connection then breaks
// ("Offset outside string"). TCP and Perl's reads may cut a stream
// anywhere. With Options.SerealStringTail the Sereal wire never ends a
// document in such an integer: an integer outside -16..15 that is a
// document's last scalar (a result's offset, a delete_analyzer id, the
// lport of a new_analyzer context, the op of an RPC without arguments) is
// written as its decimal string, which Net::IMP::Remote reads as the same
// number (it looks ids, ops and types up as hash keys and compares
// offsets as numbers). What cannot be avoided is the count of an outer
// array of 16 or more elements (a result with 14 or more arguments),
// which starts the document.
//
// # Connections
//
// Conn runs one IMP RPC connection over a net.Conn for either side (Server
// sends set_version(1) first; Client accepts it anywhere or never, and
// fails on any other version). It has one goroutine reading frames and
// handing the messages to a Handler in order, and one writing whatever
// Send queued in as few writes as possible. Send never waits; Queued,
// Written, WaitQueued and WaitWritten let a server or client keep the
// queue within its limits while the connection goes on reading (a Perl
// peer whose socket buffer fills closes the connection, so a peer must
// never stop reading from it). Registry allocates analyzer ids as Perl
// does. Close ends everything with a cause that every waiting call sees.
//
// A server's Handler answers get_interface with Send(&Interface{...}),
// keeps its analyzers in a Registry[T] (AddID for the ids the client
// chose, "analyzer exists already" when AddID fails), passes *Data to
// them, and has them Send their results from any goroutine; to bound
// memory it compares Queued with its limit and fails the analyzers that
// have the most queued (Send returns each frame's end position, Written
// tells which have gone). A client allocates ids with Registry.Add, sends
// data after WaitQueued(ctx, limit) for backpressure, and routes each
// *Result to its analyzer by id.
//
// Unknown ops, result types and log levels are never sent to a peer that
// did not send them first: Send refuses them with an *UnknownToPeerError
// (Config.AllowUnknown lifts this for tools that test peers).
package conn
