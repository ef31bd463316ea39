package imp

import (
	"strconv"
	"strings"

	"github.com/goimp/imprpc/perl"
)

// Meta is what a data provider tells about an inspected connection: the
// meta entry of the context it gives new_analyzer, {meta => {caddr =>
// ..., cport => ..., ...}}, as imp-relay.pl and App::HTTP_Proxy_IMP send
// it. The keys plugins commonly use are parsed into fields; Raw keeps the
// hash as it came.
type Meta struct {
	// App names the data provider ("imp_proxy"): key app.
	App string
	// ClientAddr is the client's address: key caddr.
	ClientAddr string
	// ClientPort is the client's port: key cport (an integer or a
	// decimal string).
	ClientPort int
	// ServerAddr is the server's address: key saddr.
	ServerAddr string
	// ServerPort is the server's port: key sport.
	ServerPort int
	// ListenAddr is the address the data provider accepted the
	// connection on: key laddr.
	ListenAddr string
	// ListenPort is the port it accepted the connection on: key lport
	// (imp-relay.pl sends it as a string).
	ListenPort int

	// Raw is the meta hash as the data provider sent it (values strings
	// or integers, possibly nested), nil when it sent none or the Meta
	// was made in Go.
	Raw *perl.Hash
}

// metaKeys are the keys of the typed fields of Meta, in the order
// imp-relay.pl writes them.
var metaKeys = [...]string{"app", "caddr", "cport", "saddr", "sport", "laddr", "lport"}

// text and port return pointers to the typed field of key k.
func (m *Meta) text(k string) *string {
	switch k {
	case "app":
		return &m.App
	case "caddr":
		return &m.ClientAddr
	case "saddr":
		return &m.ServerAddr
	case "laddr":
		return &m.ListenAddr
	}
	return nil
}

func (m *Meta) port(k string) *int {
	switch k {
	case "cport":
		return &m.ClientPort
	case "sport":
		return &m.ServerPort
	case "lport":
		return &m.ListenPort
	}
	return nil
}

// ContextError reports a new_analyzer context that is not
// {meta => {...}}. A Perl plugin built on Net::IMP::Base dies on such a
// context ("Attempt to access disallowed key"); the Go server answers
// with an exception carrying this message.
type ContextError struct {
	// Keys are the top-level keys at fault, in the order received;
	// empty when the context itself is not a hash.
	Keys []string
	// Msg says what is wrong, naming the keys.
	Msg string
}

// Error returns "imp: new_analyzer context: " and Msg.
func (e *ContextError) Error() string { return "imp: new_analyzer context: " + e.Msg }

func quoteKeys(keys []string) string {
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = strconv.Quote(k)
	}
	return strings.Join(q, ", ")
}

// ParseContext reads the context of a new_analyzer RPC: a hash (or a
// reference to one, or undef for none) whose only key is meta, whose
// value is a hash (or undef). Top-level keys other than meta are an
// error naming them, as is a meta that is not a hash. Meta fields whose
// values are not text, or ports that are not integers from 0 to 65535,
// stay empty; Raw has them as they came.
func ParseContext(v perl.Value) (*Meta, error) {
	h, ok := hashOf(v)
	if !ok {
		return nil, &ContextError{Msg: "not a hash but " + describe(v)}
	}
	m := new(Meta)
	if h == nil {
		return m, nil
	}
	var unknown []string
	for _, e := range h.Entries {
		if e.Flags&perl.KeyPlaceholder != 0 {
			continue
		}
		if k := e.Text(); k != "meta" {
			unknown = append(unknown, k)
			continue
		}
		mh, ok := hashOf(e.Value)
		if !ok {
			return nil, &ContextError{Keys: []string{"meta"}, Msg: "\"meta\" is not a hash but " + describe(e.Value)}
		}
		m.Raw = mh
	}
	if len(unknown) > 0 {
		msg := "unknown key "
		if len(unknown) > 1 {
			msg = "unknown keys "
		}
		return nil, &ContextError{Keys: unknown, Msg: msg + quoteKeys(unknown) + " (only \"meta\" is allowed)"}
	}
	if m.Raw != nil {
		for _, e := range m.Raw.Entries {
			if e.Flags&perl.KeyPlaceholder != 0 {
				continue
			}
			k := e.Text()
			if p := m.text(k); p != nil {
				*p, _ = ToText(e.Value)
			} else if p := m.port(k); p != nil {
				if n, ok := ToInt(e.Value); ok && n >= 0 && n <= 65535 {
					*p = int(n)
				}
			}
		}
	}
	return m, nil
}

// hashOf returns the hash v is or refers to; nil, true for undef.
func hashOf(v perl.Value) (*perl.Hash, bool) {
	switch x := v.(type) {
	case nil, perl.Undef:
		return nil, true
	case *perl.Hash:
		return x, true
	case perl.Ref:
		h, ok := x.To.(*perl.Hash)
		return h, ok && h != nil
	case *perl.Scalar:
		if x != nil {
			return hashOf(x.Value)
		}
	}
	return nil, false
}

// Context returns the new_analyzer context for m as a Perl data provider
// sends it: a reference to {meta => {...}}. The meta hash is m.Raw when it
// is set; otherwise it is made from the typed fields, leaving out empty
// ones, with ports as integers. A nil m gives an empty context {}.
func (m *Meta) Context() perl.Value {
	ctx := perl.NewHash(1)
	if m != nil {
		ctx.Set("meta", perl.HashRef(m.hash()))
	}
	return perl.HashRef(ctx)
}

func (m *Meta) hash() *perl.Hash {
	if m.Raw != nil {
		return m.Raw
	}
	h := perl.NewHash(len(metaKeys))
	for _, k := range metaKeys {
		if p := m.text(k); p != nil && *p != "" {
			h.Set(k, perl.Str(*p))
		} else if p := m.port(k); p != nil && *p != 0 {
			h.Set(k, perl.Int(*p))
		}
	}
	return h
}
