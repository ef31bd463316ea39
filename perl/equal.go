package perl

import (
	"bytes"
	"fmt"
	"math"
	"strconv"

	"github.com/goimp/imprpc/perl/internal/vpath"
)

// Equal reports whether a and b are the same Perl value: the same kinds
// everywhere (Int(1), Float(1) and Bytes("1") all differ, as do Bytes and
// String with the same characters), the same contents, and the same shape
// of identity: referents shared in a are shared the same way in b (the
// referent pointers of a and b correspond one to one), so cycles compare
// as cycles and terminate. Hashes compare as maps: the order of entries
// does not matter, and a key is its characters (the byte key "\xe9" and
// the UTF-8 key "é" are one key, as in Perl); key flags other than
// KeyWasUTF8 count. Floats compare by bits, except that NaN equals NaN.
func Equal(a, b Value) bool {
	return Diff(a, b) == ""
}

// Diff is Equal that says where and how a and b differ, for test
// failures: "" when they are equal, else the path of the first difference
// and what differs there, such as
//
//	$[2].meta.cport: int 40001 != bytes "40001"
//
// Paths start at $ (the root); [i] is an array element, .key a hash
// value, .$ref the scalar behind a reference.
func Diff(a, b Value) string {
	c := comparer{}
	var p vpath.Path
	msg := c.value(a, b, &p)
	if msg == "" {
		return ""
	}
	return p.String() + ": " + msg
}

type comparer struct {
	// The correspondence of referents found so far, both ways.
	ab map[Referent]Referent
	ba map[Referent]Referent
}

func (c *comparer) value(a, b Value, p *vpath.Path) string {
	if a == nil || b == nil {
		if a == nil && b == nil {
			return ""
		}
		return Describe(a) + " != " + Describe(b)
	}
	if a.Kind() != b.Kind() {
		return Describe(a) + " != " + Describe(b)
	}
	same := true
	switch a := a.(type) {
	case Undef:
		same = a == b.(Undef)
	case Bool:
		same = a == b.(Bool)
	case Int:
		same = a == b.(Int)
	case Uint:
		same = a == b.(Uint)
	case Float:
		fb := float64(b.(Float))
		same = math.Float64bits(float64(a)) == math.Float64bits(fb) || math.IsNaN(float64(a)) && math.IsNaN(fb)
	case Bytes:
		same = bytes.Equal(a, b.(Bytes))
	case String:
		same = a == b.(String)
	case VString:
		vb := b.(VString)
		if a.Literal != vb.Literal {
			return "v-string " + strconv.Quote(a.Literal) + " != " + strconv.Quote(vb.Literal)
		}
		return c.value(a.Value, vb.Value, p)
	case Ref:
		rb := b.(Ref)
		if a.Weak != rb.Weak || a.Overloaded != rb.Overloaded {
			return fmt.Sprintf("reference weak=%v overloaded=%v != weak=%v overloaded=%v", a.Weak, a.Overloaded, rb.Weak, rb.Overloaded)
		}
		msg := c.referent(a.To, rb.To, p)
		if msg != "" && a.To != nil && rb.To != nil && a.To.Kind() == KindScalar && rb.To.Kind() == KindScalar {
			p.Seg(".$ref")
		}
		return msg
	case Referent:
		return c.referent(a, b.(Referent), p)
	}
	if !same {
		return Describe(a) + " != " + Describe(b)
	}
	return ""
}

func (c *comparer) referent(a, b Referent, p *vpath.Path) string {
	if IsNil(a) || IsNil(b) {
		if IsNil(a) && IsNil(b) {
			return ""
		}
		return Describe(a) + " != " + Describe(b)
	}
	if a.Kind() != b.Kind() {
		return Describe(a) + " != " + Describe(b)
	}
	if mb, ok := c.ab[a]; ok {
		if mb != b {
			return "the first value is shared here with another place than the second"
		}
		return "" // compared already, or being compared (a cycle)
	}
	if ma, ok := c.ba[b]; ok && ma != a {
		return "the second value is shared here with another place than the first"
	}
	if c.ab == nil {
		c.ab = make(map[Referent]Referent)
		c.ba = make(map[Referent]Referent)
	}
	c.ab[a], c.ba[b] = b, a
	if a.Blessed() != b.Blessed() {
		return "blessed into " + strconv.Quote(a.Blessed()) + " != " + strconv.Quote(b.Blessed())
	}
	switch a := a.(type) {
	case *Array:
		return c.elems(a.Elems, b.(*Array).Elems, p)
	case *Hash:
		return c.hash(a, b.(*Hash), p)
	case *Scalar:
		return c.value(a.Value, b.(*Scalar).Value, p)
	case *Regexp:
		rb := b.(*Regexp)
		if a.Pattern != rb.Pattern || a.UTF8 != rb.UTF8 || a.Flags != rb.Flags {
			return Describe(a) + " != " + Describe(rb)
		}
	case *Hook:
		hb := b.(*Hook)
		if a.Type != hb.Type || !bytes.Equal(a.Frozen, hb.Frozen) {
			return Describe(a) + " != " + Describe(hb)
		}
		if msg := c.elems(a.Refs, hb.Refs, p); msg != "" {
			p.Seg(".refs")
			return msg
		}
	}
	return ""
}

func (c *comparer) elems(a, b []Value, p *vpath.Path) string {
	for i := range min(len(a), len(b)) {
		if msg := c.value(a[i], b[i], p); msg != "" {
			p.Index(i)
			return msg
		}
	}
	if len(a) != len(b) {
		return fmt.Sprintf("array of %d elements != array of %d elements", len(a), len(b))
	}
	return ""
}

// keyFlagsCompared are the key flags that make two entries differ;
// KeyWasUTF8 only tells how the key was held.
const keyFlagsCompared = KeyLocked | KeyPlaceholder

func (c *comparer) hash(a, b *Hash, p *vpath.Path) string {
	if a.Restricted != b.Restricted {
		return fmt.Sprintf("restricted hash %v != %v", a.Restricted, b.Restricted)
	}
	if len(a.Entries) != len(b.Entries) {
		return fmt.Sprintf("hash of %d keys != hash of %d keys", len(a.Entries), len(b.Entries))
	}
	ib := make(map[string]*HashEntry, len(b.Entries))
	for i := range b.Entries {
		ib[b.Entries[i].Text()] = &b.Entries[i]
	}
	for i := range a.Entries {
		ea := &a.Entries[i]
		k := ea.Text()
		eb, ok := ib[k]
		if !ok {
			p.Key(k)
			return "key only in the first hash"
		}
		if ea.Flags&keyFlagsCompared != eb.Flags&keyFlagsCompared {
			p.Key(k)
			return fmt.Sprintf("key flags %#x != %#x", ea.Flags&keyFlagsCompared, eb.Flags&keyFlagsCompared)
		}
		if msg := c.value(ea.Value, eb.Value, p); msg != "" {
			p.Key(k)
			return msg
		}
	}
	return ""
}

// Describe returns a short description of v for messages: its kind and,
// for scalars, its value (strings cut after 40 bytes), such as `int 42`,
// `bytes "abc"`, `array of 3 elements`, `hash of 2 keys blessed into
// "Foo"`. A chain of references is described to a few levels, so a
// scalar that refers to itself ends in "...".
func Describe(v Value) string { return describe(v, 0) }

// describeDepth is how many references and scalars Describe follows.
const describeDepth = 4

func describe(v Value, depth int) string {
	if depth > describeDepth {
		return "..."
	}
	var s string
	switch v := v.(type) {
	case nil:
		return "nil"
	case Undef:
		switch v.Of {
		case UndefPlain:
			s = "undef"
		case UndefImmortal:
			s = "immortal undef"
		case UndefHole:
			s = "nonexistent element"
		default:
			s = "undef of kind " + strconv.Itoa(int(v.Of))
		}
	case Bool:
		s = "bool " + strconv.FormatBool(bool(v))
	case Int:
		s = "int " + strconv.FormatInt(int64(v), 10)
	case Uint:
		s = "uint " + strconv.FormatUint(uint64(v), 10)
	case Float:
		s = "float " + strconv.FormatFloat(float64(v), 'g', -1, 64)
	case Bytes:
		s = "bytes " + quoteShort(string(v))
	case String:
		s = "string " + quoteShort(string(v))
	case VString:
		s = "v-string " + strconv.Quote(v.Literal)
	case Ref:
		s = "reference to " + describe(v.To, depth+1)
	case *Array:
		if v == nil {
			return "nil array"
		}
		s = fmt.Sprintf("array of %d elements", len(v.Elems))
	case *Hash:
		if v == nil {
			return "nil hash"
		}
		s = fmt.Sprintf("hash of %d keys", len(v.Entries))
	case *Scalar:
		if v == nil {
			return "nil scalar"
		}
		s = "scalar holding " + describe(v.Value, depth+1)
	case *Regexp:
		if v == nil {
			return "nil regexp"
		}
		s = "regexp qr/" + v.Pattern + "/" + v.Flags
	case *Hook:
		if v == nil {
			return "nil hook"
		}
		s = fmt.Sprintf("hook object (%d bytes frozen, %d refs)", len(v.Frozen), len(v.Refs))
	default:
		return fmt.Sprintf("%T", v)
	}
	if r, ok := v.(Referent); ok && r.Blessed() != "" && v.Kind() != KindHook {
		s += " blessed into " + strconv.Quote(r.Blessed())
	}
	return s
}

func quoteShort(s string) string {
	if len(s) > 40 {
		return strconv.Quote(s[:40]) + fmt.Sprintf("... (%d bytes)", len(s))
	}
	return strconv.Quote(s)
}
