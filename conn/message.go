package conn

import (
	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/perl"
)

// Message is one IMP RPC: *GetInterface, *SetInterface, *NewAnalyzer,
// *DeleteAnalyzer, *Data, *SetVersion, *Exception, *Interface, *Result,
// or *Raw for an op the protocol does not define. The set is closed: a
// type switch over these cases is exhaustive.
//
// A message read from a peer owns its memory (nothing refers to the read
// buffer). A message given to an encoder or to Conn.Send is only read, and
// may be reused by the caller once the call returns.
type Message interface {
	// Op returns the operation code.
	Op() Op
	message()
}

// GetInterface is get_interface(interfaces...): the data provider offers
// the interfaces it can handle and asks which of them the server's plugin
// supports. With none offered, the server answers with all of its own.
//
// An interface whose Results is nil (any result type) goes out as Perl
// writes it, the one-element list [data_type]; an empty but not nil
// Results as [data_type, []].
type GetInterface struct {
	Interfaces []imp.Interface
}

// SetInterface is set_interface(interface): the data provider fixes the
// interface it will use.
//
// Perl writes an interface without a result list here as [data_type, []]
// (where get_interface writes [data_type]), and so does the encoder: a nil
// Results goes out as an empty list. Both forms decode, the empty list to
// an empty, not nil, Results; both mean any result type.
type SetInterface struct {
	Interface imp.Interface
}

// NewAnalyzer is new_analyzer(id, context): the data provider creates an
// analyzer with an id it chose.
type NewAnalyzer struct {
	// ID is the analyzer's id, never 0 from a Perl client (Perl counts
	// from 1 per connection).
	ID int64
	// Context is the context as the data provider sends it: a reference
	// to a hash, as Perl data providers send {meta => {caddr => ...,
	// cport => ..., ...}} (see imp.ParseContext and imp.Meta.Context).
	// It keeps its values' kinds (string or integer) and its key order.
	// A nil Context is written as an empty hash {}.
	Context perl.Value
}

// DeleteAnalyzer is delete_analyzer(id): the data provider is done with an
// analyzer. The server sends no reply.
type DeleteAnalyzer struct {
	ID int64
}

// Data is data(id, dir, offset, type, data): data for an analyzer.
type Data struct {
	// ID is the analyzer's id.
	ID int64
	// Dir is the direction: 0 from the client, 1 from the server.
	Dir imp.Dir
	// Offset is 0 when the data follows on from the data sent before,
	// else the absolute position of the data in its direction.
	Offset int64
	// UndefOffset records an offset sent as undef (imp-relay.pl sends
	// data without an offset), which means 0. When it is set and Offset
	// is 0, the encoder writes undef again.
	UndefOffset bool
	// Type is the data type; types a peer does not know are carried
	// unchanged (see the package documentation).
	Type imp.DataType
	// Data is the data; empty means end of data for Dir.
	Data []byte
	// UTF8 records data sent as a Perl character string (UTF-8 flagged):
	// Data then holds its UTF-8 encoding, and the encoder writes it as a
	// character string again. Perl data providers send byte strings.
	UTF8 bool
}

// SetVersion is set_version(version): the server's first frame. Conn
// handles it and never passes it to a Handler; a Reader returns it.
type SetVersion struct {
	Version int64
}

// Exception is exception(id, message): a failure of analyzer id, or of the
// whole factory (the connection) when id is 0.
type Exception struct {
	// ID is the analyzer's id, 0 for the factory.
	ID int64
	// Message is the message as the peer sent it: Bytes, String (UTF-8),
	// or any other Perl value. Text returns it as Go text; NewException
	// sets it from Go text. A nil Message is written as an empty string.
	Message perl.Value
	// NoID records the form of upstream's own test, exception(message),
	// whose only argument is the message; ID is then 0.
	NoID bool
}

// NewException returns exception(id, msg) with msg held as perl.Str holds
// Go text (a byte string when it is ASCII).
func NewException(id int64, msg string) *Exception {
	return &Exception{ID: id, Message: perl.Str(msg)}
}

// Text returns the message as Go text: a byte string read as Latin-1, as
// Perl shows it (see imp.ToText); "" when it has no text.
func (e *Exception) Text() string {
	s, _ := imp.ToText(e.Message)
	return s
}

// Interface is interface(interfaces...): the server's answer to
// get_interface, the interfaces its plugin supports, in the shape of
// GetInterface.
type Interface struct {
	Interfaces []imp.Interface
}

// Result is result(id, type, args...): a result of analyzer id.
type Result struct {
	// ID is the analyzer's id.
	ID int64
	// Result is the result with its arguments as the peer sent them.
	Result imp.Result
}

// Raw is an RPC given as its op and its arguments: what a peer sent with
// an op this package does not know (see UnknownOpError), or arguments to
// be written exactly as given. Conn refuses to send an op the peer has
// not sent first.
type Raw struct {
	Code Op
	Args []perl.Value
}

// Op implements Message.
func (*GetInterface) Op() Op { return OpGetInterface }

// Op implements Message.
func (*SetInterface) Op() Op { return OpSetInterface }

// Op implements Message.
func (*NewAnalyzer) Op() Op { return OpNewAnalyzer }

// Op implements Message.
func (*DeleteAnalyzer) Op() Op { return OpDeleteAnalyzer }

// Op implements Message.
func (*Data) Op() Op { return OpData }

// Op implements Message.
func (*SetVersion) Op() Op { return OpSetVersion }

// Op implements Message.
func (*Exception) Op() Op { return OpException }

// Op implements Message.
func (*Interface) Op() Op { return OpInterface }

// Op implements Message.
func (*Result) Op() Op { return OpResult }

// Op implements Message.
func (r *Raw) Op() Op { return r.Code }

func (*GetInterface) message()   {}
func (*SetInterface) message()   {}
func (*NewAnalyzer) message()    {}
func (*DeleteAnalyzer) message() {}
func (*Data) message()           {}
func (*SetVersion) message()     {}
func (*Exception) message()      {}
func (*Interface) message()      {}
func (*Result) message()         {}
func (*Raw) message()            {}

// Octets returns the data as the bytes a Perl peer would put on a socket:
// Data itself for byte strings; for UTF8 data whose characters are all
// below U+0100, one byte per character (Perl downgrades such strings);
// for other UTF8 data, its UTF-8 encoding.
func (d *Data) Octets() []byte {
	if !d.UTF8 {
		return d.Data
	}
	b := make([]byte, 0, len(d.Data))
	for _, r := range string(d.Data) {
		if r > 0xFF { // invalid UTF-8 decodes as U+FFFD
			return d.Data
		}
		b = append(b, byte(r))
	}
	return b
}
