// Package taggedjson shows Perl values ([perl.Value]) as JSON and reads
// them back, following the project's tagged JSON specification
// (spec/tagged-json.md in the shared directory). It is what the command
// line prints, and what the conformance suites compare with Perl, whose
// side is the module ImpFixture::TaggedJSON in perl-fixtures/lib.
//
// # Showing values
//
//	perl.Value                          tagged JSON
//	Undef (any kind)                    null
//	Bool                                true, false
//	Int, Uint                           integer, exact: -9223372036854775808, 18446744073709551615
//	Float                               shortest text that reads back to the same float64,
//	                                    always with '.' or an exponent: 1.0, 0.1, 1e+300, 1e-07
//	Float ±Inf, NaN                     "inf", "-inf", "nan"
//	Bytes                               string, each byte the character U+0000..U+00FF
//	String                              string of its characters
//	VString                             its Value, as a string
//	Ref to *Array, *Hash                the array or hash: [...], {...} (keys sorted)
//	Ref to *Scalar                      {"$ref": X}, X the scalar's value
//	Ref to *Regexp                      {"$regexp": "pattern", "$flags": "i"}
//	Ref to blessed *Array, *Hash,       {"$bless": "Class", "$value": X}, X shown as above
//	  *Scalar, reblessed *Regexp          without the {"$ref": ...} layer
//	Ref to *Hook                        {"$bless": "Class", "$hook": {"frozen": "...", "refs": [R, ...]}}
//	*Scalar as an element               its value (blessed: {"$bless": ..., "$value": ...})
//
// A reference to a value that is still being shown (a cycle) shows as
// {"$cycle": true}; for an unblessed scalar the marker takes the place of
// the referent: {"$ref": {"$cycle": true}}. A value reached twice without
// a cycle (shared data) is shown each time. Hash keys that are
// placeholders of a restricted hash are not shown, as Perl's keys omits
// them.
//
// The root is a referent, as the root of a Storable image is: an *Array
// shows as [...], a *Scalar as its value (so the root of nfreeze(\"a")
// shows "a"), a Ref as an element would. The text is ASCII: every
// character outside U+0020..U+007E is a \u escape, a surrogate pair above
// U+FFFF. A string with a code point above U+10FFFF (Perl allows them),
// malformed Perl UTF-8 in a String, a nil Value or Ref, and an aggregate
// where Perl holds only scalars give an *UnsupportedValueError.
//
// # Reading values
//
// [Unmarshal] reads text by the same table the other way: a number with
// '.' or an exponent is a Float, any other number an Int (a Uint above
// math.MaxInt64), exactly; a string with a character above U+00FF is a
// String, any other string Bytes; an array is a Ref to an *Array, an
// object a Ref to a *Hash unless its keys are exactly those of a tag
// ("$ref"; "$bless" with "$value" or "$hook"; "$regexp" with or without
// "$flags"). At the root, a Ref whose referent the JSON shows directly
// (array, hash, regexp, hook, blessed value) gives the referent itself, so
// that Unmarshal of Marshal of a root *Array is an *Array. {"$cycle":
// true} cannot be read back and gives a *SyntaxError, as does any input
// that is not tagged JSON.
//
// # What a round trip loses
//
// Marshal then Unmarshal gives back an equal value ([perl.Equal]) except:
//
//   - a String whose characters are all below U+0100 comes back as Bytes
//     (the UTF-8 flag is not shown), and hash keys likewise;
//   - at the root, a Ref to an array, hash, regexp, hook or blessed value
//     comes back as the referent, and an unblessed *Scalar as its value;
//   - the kinds of Undef, Weak and Overloaded on references, restricted
//     hashes and key flags, the literal of a VString, and the Type of a
//     Hook are not shown; an unblessed Regexp comes back blessed into
//     "Regexp";
//   - shared values come back as copies (only cycles are marked, and
//     those cannot be read);
//   - Float infinities and NaN come back as the strings "inf", "-inf",
//     "nan";
//   - a hash whose keys are exactly those of a tag reads back as the tag;
//   - a Perl string holding a high and a low surrogate in a row reads
//     back as the one character they encode in UTF-16.
//
// [Equal] and [Diff] compare two texts as values (an integer and a double
// of the same value are equal), which is how tests should compare tagged
// JSON.
package taggedjson

import (
	"bytes"
	"io"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/perl/internal/vpath"
)

// UnsupportedValueError reports a value that has no tagged JSON form.
type UnsupportedValueError struct {
	// Path is where the value is: "$" is the root, then [i] for array
	// elements, .key for hash values, .$ref / .$value behind references.
	Path string
	// Msg says what is wrong.
	Msg string
}

// Error implements error.
func (e *UnsupportedValueError) Error() string {
	return "taggedjson: " + e.Path + ": " + e.Msg
}

// Marshal returns the tagged JSON text of v, shown as a root (see the
// package documentation), without a trailing newline.
func Marshal(v perl.Value) ([]byte, error) {
	e := encoder{}
	if err := e.root(v); err != nil {
		return nil, err
	}
	return e.buf, nil
}

// Encoder writes values as tagged JSON, one line each.
type Encoder struct {
	w io.Writer
}

// NewEncoder returns an Encoder that writes to w.
func NewEncoder(w io.Writer) *Encoder { return &Encoder{w: w} }

// Encode writes the tagged JSON text of v (see Marshal) and a newline.
func (enc *Encoder) Encode(v perl.Value) error {
	e := encoder{}
	if err := e.root(v); err != nil {
		return err
	}
	_, err := enc.w.Write(append(e.buf, '\n'))
	return err
}

type encoder struct {
	buf    []byte
	active map[perl.Referent]bool // referents being shown
}

// encodeError is an UnsupportedValueError under construction: its path
// grows while it travels up.
type encodeError struct {
	path vpath.Path
	msg  string
}

func (e *encodeError) Error() string { return e.msg }

func unsupported(msg string) *encodeError { return &encodeError{msg: msg} }

// at adds a path segment to err if it is an *encodeError.
func at(err error, add func(p *vpath.Path)) error {
	if ee, ok := err.(*encodeError); ok {
		add(&ee.path)
	}
	return err
}

func (e *encoder) root(v perl.Value) error {
	var err error
	if s, ok := v.(*perl.Scalar); ok && s != nil {
		err = e.direct(s)
	} else {
		err = e.value(v, true)
	}
	if ee, ok := err.(*encodeError); ok {
		return &UnsupportedValueError{Path: ee.path.String(), Msg: ee.msg}
	}
	return err
}

// value shows v. Referents (other than *Scalar) are allowed only at the
// root: Perl's arrays and hashes hold scalars.
func (e *encoder) value(v perl.Value, root bool) error {
	switch v := v.(type) {
	case perl.Undef:
		e.buf = append(e.buf, "null"...)
	case perl.Bool:
		e.buf = strconv.AppendBool(e.buf, bool(v))
	case perl.Int:
		e.buf = strconv.AppendInt(e.buf, int64(v), 10)
	case perl.Uint:
		e.buf = strconv.AppendUint(e.buf, uint64(v), 10)
	case perl.Float:
		e.buf = AppendFloat(e.buf, float64(v))
	case perl.Bytes:
		e.bytes(v)
	case perl.String:
		return e.string(string(v))
	case perl.VString:
		switch s := v.Value.(type) {
		case perl.Bytes:
			e.bytes(s)
		case perl.String:
			return e.string(string(s))
		default:
			return unsupported("v-string value is not a string")
		}
	case perl.Ref:
		if perl.IsNil(v.To) {
			return unsupported("reference to nothing")
		}
		return e.ref(v.To)
	case *perl.Scalar:
		if v == nil {
			return unsupported("nil *perl.Scalar")
		}
		return e.direct(v)
	case perl.Referent:
		if perl.IsNil(v) {
			return unsupported("nil " + v.Kind().String())
		}
		if !root {
			return unsupported(article(v.Kind()) + " held directly where Perl holds a scalar; use a perl.Ref to it")
		}
		return e.ref(v)
	case nil:
		return unsupported("nil perl.Value")
	default:
		return unsupported("unknown perl.Value type")
	}
	return nil
}

// article returns the kind's name with "a" or "an".
func article(k perl.Kind) string {
	if k == perl.KindArray {
		return "an array"
	}
	return "a " + k.String()
}

// direct shows a *Scalar reached without a reference (the root, or an
// element that is the target of a reference elsewhere): its value,
// blessed if it is.
func (e *encoder) direct(s *perl.Scalar) error {
	if !e.active[s] {
		e.enter(s)
		defer delete(e.active, s)
	}
	if s.Class != "" {
		return e.blessed(s.Class, func() error { return e.scalarValue(s) })
	}
	return e.scalarValue(s)
}

func (e *encoder) scalarValue(s *perl.Scalar) error {
	if _, ok := s.Value.(perl.Referent); ok {
		return unsupported("a perl.Scalar holds " + article(s.Value.Kind()) + " directly; use a perl.Ref to it")
	}
	return e.value(s.Value, false)
}

func (e *encoder) enter(r perl.Referent) {
	if e.active == nil {
		e.active = make(map[perl.Referent]bool)
	}
	e.active[r] = true
}

// ref shows what a reference to r shows.
func (e *encoder) ref(r perl.Referent) error {
	s, isScalar := r.(*perl.Scalar)
	plainScalar := isScalar && s.Class == ""
	if e.active[r] {
		if plainScalar {
			e.buf = append(e.buf, `{"$ref":{"$cycle":true}}`...)
		} else {
			e.buf = append(e.buf, `{"$cycle":true}`...)
		}
		return nil
	}
	e.enter(r)
	defer delete(e.active, r)
	switch r := r.(type) {
	case *perl.Scalar:
		if plainScalar {
			e.buf = append(e.buf, `{"$ref":`...)
			if err := e.scalarValue(r); err != nil {
				return at(err, func(p *vpath.Path) { p.Seg(".$ref") })
			}
			e.buf = append(e.buf, '}')
			return nil
		}
		return e.blessed(r.Class, func() error { return e.scalarValue(r) })
	case *perl.Array:
		return e.maybeBlessed(r.Class, func() error { return e.array(r.Elems) })
	case *perl.Hash:
		return e.maybeBlessed(r.Class, func() error { return e.hash(r) })
	case *perl.Regexp:
		if r.Class == "" || r.Class == "Regexp" {
			return e.regexp(r)
		}
		return e.blessed(r.Class, func() error { return e.regexp(r) })
	case *perl.Hook:
		return e.hook(r)
	}
	return unsupported("unknown perl.Referent type")
}

func (e *encoder) maybeBlessed(class string, body func() error) error {
	if class == "" {
		return body()
	}
	return e.blessed(class, body)
}

func (e *encoder) blessed(class string, body func() error) error {
	e.buf = append(e.buf, `{"$bless":`...)
	e.text(class)
	e.buf = append(e.buf, `,"$value":`...)
	if err := body(); err != nil {
		return at(err, func(p *vpath.Path) { p.Seg(".$value") })
	}
	e.buf = append(e.buf, '}')
	return nil
}

func (e *encoder) array(elems []perl.Value) error {
	e.buf = append(e.buf, '[')
	for i, v := range elems {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.value(v, false); err != nil {
			return at(err, func(p *vpath.Path) { p.Index(i) })
		}
	}
	e.buf = append(e.buf, ']')
	return nil
}

type shownKey struct {
	text string // the key's characters in (Perl) UTF-8, for sorting
	i    int    // index in Entries
}

func (e *encoder) hash(h *perl.Hash) error {
	keys := make([]shownKey, 0, len(h.Entries))
	for i, en := range h.Entries {
		if en.Flags&perl.KeyPlaceholder == 0 {
			keys = append(keys, shownKey{en.Text(), i})
		}
	}
	// Byte order of UTF-8 is code point order, which is Perl's sort order.
	slices.SortFunc(keys, func(a, b shownKey) int {
		if a.text < b.text {
			return -1
		}
		if a.text > b.text {
			return 1
		}
		return 0
	})
	e.buf = append(e.buf, '{')
	for j, k := range keys {
		if j > 0 {
			if keys[j-1].text == k.text {
				return unsupported("hash holds the key " + strconv.Quote(k.text) + " twice")
			}
			e.buf = append(e.buf, ',')
		}
		en := &h.Entries[k.i]
		var err error
		if en.UTF8 {
			err = e.string(en.Key)
		} else {
			e.bytes([]byte(en.Key))
		}
		if err == nil {
			e.buf = append(e.buf, ':')
			err = e.value(en.Value, false)
		}
		if err != nil {
			return at(err, func(p *vpath.Path) { p.Key(k.text) })
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

func (e *encoder) regexp(r *perl.Regexp) error {
	e.buf = append(e.buf, `{"$regexp":`...)
	if r.UTF8 {
		if err := e.string(r.Pattern); err != nil {
			return err
		}
	} else {
		e.bytes([]byte(r.Pattern))
	}
	e.buf = append(e.buf, `,"$flags":`...)
	e.text(r.Flags)
	e.buf = append(e.buf, '}')
	return nil
}

func (e *encoder) hook(h *perl.Hook) error {
	e.buf = append(e.buf, `{"$bless":`...)
	e.text(h.Class)
	e.buf = append(e.buf, `,"$hook":{"frozen":`...)
	e.bytes(h.Frozen)
	e.buf = append(e.buf, `,"refs":`...)
	if err := e.array(h.Refs); err != nil {
		return at(err, func(p *vpath.Path) { p.Seg(".$hook.refs") })
	}
	e.buf = append(e.buf, "}}"...)
	return nil
}

// text shows a Go string (a class name, regexp flags): as characters when
// it is valid UTF-8, else as Latin-1 bytes, as perl.Str reads it.
func (e *encoder) text(s string) {
	if utf8.ValidString(s) {
		e.buf = append(e.buf, '"')
		for _, c := range s {
			e.char(c)
		}
		e.buf = append(e.buf, '"')
		return
	}
	e.bytes([]byte(s))
}

// bytes shows a byte string: each byte is one character.
func (e *encoder) bytes(b []byte) {
	e.buf = append(e.buf, '"')
	for _, c := range b {
		e.char(rune(c))
	}
	e.buf = append(e.buf, '"')
}

// string shows a UTF-8 flagged string held in Perl's internal encoding.
func (e *encoder) string(s string) error {
	e.buf = append(e.buf, '"')
	for i := 0; i < len(s); {
		c, size, err := decodePerlChar(s[i:])
		if err != nil {
			return unsupported(err.Error() + " at byte " + strconv.Itoa(i) + " of a string")
		}
		e.char(c)
		i += size
	}
	e.buf = append(e.buf, '"')
	return nil
}

const hexDigits = "0123456789abcdef"

func (e *encoder) char(c rune) {
	switch {
	case c >= 0x20 && c < 0x7f && c != '"' && c != '\\':
		e.buf = append(e.buf, byte(c))
	case c == '"', c == '\\':
		e.buf = append(e.buf, '\\', byte(c))
	case c == '\b':
		e.buf = append(e.buf, '\\', 'b')
	case c == '\f':
		e.buf = append(e.buf, '\\', 'f')
	case c == '\n':
		e.buf = append(e.buf, '\\', 'n')
	case c == '\r':
		e.buf = append(e.buf, '\\', 'r')
	case c == '\t':
		e.buf = append(e.buf, '\\', 't')
	case c > 0xffff:
		c -= 0x10000
		e.uescape(0xd800 + c>>10)
		e.uescape(0xdc00 + c&0x3ff)
	default:
		e.uescape(c)
	}
}

func (e *encoder) uescape(c rune) {
	e.buf = append(e.buf, '\\', 'u', hexDigits[c>>12&0xf], hexDigits[c>>8&0xf], hexDigits[c>>4&0xf], hexDigits[c&0xf])
}

// AppendFloat appends f as tagged JSON shows a double: the shortest text
// that reads back to the same float64, in strconv's 'f' form for
// magnitudes from 1e-6 up to 1e21 and its 'e' form outside, always with a
// '.' or an exponent ("1.0", "0.1", "1e+300", "-0.0"); the strings
// "inf", "-inf" and "nan" (quoted) for the values JSON has no number for.
func AppendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"nan"`...)
	case math.IsInf(f, 1):
		return append(b, `"inf"`...)
	case math.IsInf(f, -1):
		return append(b, `"-inf"`...)
	}
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		return strconv.AppendFloat(b, f, 'e', -1, 64)
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, 'f', -1, 64)
	if !bytes.ContainsRune(b[start:], '.') {
		b = append(b, ".0"...)
	}
	return b
}
