package taggedjson

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/goimp/imprpc/perl"
)

// DefaultMaxDepth is the nesting depth DecOptions allows when MaxDepth is 0.
const DefaultMaxDepth = 10000

// DecOptions configure reading tagged JSON. The zero value is ready to use.
type DecOptions struct {
	// MaxDepth is how deeply arrays and objects may nest; 0 means
	// DefaultMaxDepth.
	MaxDepth int
}

// SyntaxError reports input that is not tagged JSON: malformed JSON, or
// JSON that tagged JSON cannot turn into a Perl value (a number out of
// range, a $cycle marker, a malformed tag).
type SyntaxError struct {
	// Offset is the byte offset in the input where the problem is.
	Offset int64
	// Msg says what is wrong.
	Msg string
}

// Error implements error.
func (e *SyntaxError) Error() string {
	return "taggedjson: offset " + strconv.FormatInt(e.Offset, 10) + ": " + e.Msg
}

// Unmarshal reads one tagged JSON value (surrounded by nothing but white
// space) and returns it as a root: see the package documentation.
func Unmarshal(data []byte) (perl.Value, error) { return DecOptions{}.Unmarshal(data) }

// Unmarshal is the package's Unmarshal with these options.
func (o DecOptions) Unmarshal(data []byte) (perl.Value, error) {
	n, err := o.parse(data)
	if err != nil {
		return nil, err
	}
	return rootValue(n)
}

func (o DecOptions) parse(data []byte) (*node, error) {
	p := parser{data: data, maxDepth: o.MaxDepth}
	if p.maxDepth <= 0 {
		p.maxDepth = DefaultMaxDepth
	}
	n, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos < len(p.data) {
		return nil, p.fail("data after the value")
	}
	return n, nil
}

// rootValue turns the parsed root into a value: a reference whose
// referent the JSON shows directly gives the referent.
func rootValue(n *node) (perl.Value, error) {
	v, err := perlValue(n)
	if err != nil {
		return nil, err
	}
	if r, ok := v.(perl.Ref); ok {
		if s, ok := r.To.(*perl.Scalar); !ok || s.Class != "" {
			return r.To, nil
		}
	}
	return v, nil
}

// ---- JSON syntax ----------------------------------------------------------

type nodeKind uint8

const (
	nodeNull nodeKind = iota
	nodeBool
	nodeNumber
	nodeString
	nodeArray
	nodeObject
)

// node is one parsed JSON value.
type node struct {
	kind  nodeKind
	off   int    // byte offset of the value in the input
	b     bool   // nodeBool
	text  string // nodeNumber: the number as written; nodeString: the characters in Perl's UTF-8
	wide  bool   // nodeString: a character above U+00FF
	elems []node // nodeArray; nodeObject: values
	keys  []node // nodeObject: keys (nodeString), parallel to elems
}

type parser struct {
	data     []byte
	pos      int
	maxDepth int
}

func (p *parser) fail(msg string) error {
	return &SyntaxError{Offset: int64(p.pos), Msg: msg}
}

func (p *parser) failAt(off int, msg string) error {
	return &SyntaxError{Offset: int64(off), Msg: msg}
}

func (p *parser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (*node, error) {
	n := new(node)
	return n, p.into(n, depth)
}

func (p *parser) into(n *node, depth int) error {
	p.space()
	if p.pos >= len(p.data) {
		return p.fail("unexpected end of input")
	}
	n.off = p.pos
	switch c := p.data[p.pos]; {
	case c == '[' || c == '{':
		if depth >= p.maxDepth {
			return p.fail("nesting deeper than " + strconv.Itoa(p.maxDepth))
		}
		p.pos++
		if c == '[' {
			return p.array(n, depth+1)
		}
		return p.object(n, depth+1)
	case c == '"':
		return p.string(n)
	case c == '-' || c >= '0' && c <= '9':
		return p.number(n)
	case c == 't':
		n.kind, n.b = nodeBool, true
		return p.literal("true")
	case c == 'f':
		n.kind = nodeBool
		return p.literal("false")
	case c == 'n':
		n.kind = nodeNull
		return p.literal("null")
	default:
		return p.fail(fmt.Sprintf("unexpected character %q", c))
	}
}

func (p *parser) literal(word string) error {
	if !bytes.HasPrefix(p.data[p.pos:], []byte(word)) {
		return p.fail("invalid literal")
	}
	p.pos += len(word)
	return nil
}

func (p *parser) array(n *node, depth int) error {
	n.kind = nodeArray
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return nil
	}
	for {
		n.elems = append(n.elems, node{})
		if err := p.into(&n.elems[len(n.elems)-1], depth); err != nil {
			return err
		}
		p.space()
		if p.pos >= len(p.data) {
			return p.fail("unexpected end of input in an array")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return nil
		default:
			return p.fail("expected , or ] in an array")
		}
	}
}

func (p *parser) object(n *node, depth int) error {
	n.kind = nodeObject
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return nil
	}
	for {
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return p.fail("expected a string as object key")
		}
		n.keys = append(n.keys, node{off: p.pos})
		if err := p.string(&n.keys[len(n.keys)-1]); err != nil {
			return err
		}
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return p.fail("expected : after an object key")
		}
		p.pos++
		n.elems = append(n.elems, node{})
		if err := p.into(&n.elems[len(n.elems)-1], depth); err != nil {
			return err
		}
		p.space()
		if p.pos >= len(p.data) {
			return p.fail("unexpected end of input in an object")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return nil
		default:
			return p.fail("expected , or } in an object")
		}
	}
}

func (p *parser) number(n *node) error {
	start := p.pos
	d := p.data
	i := p.pos
	if d[i] == '-' {
		i++
	}
	digits := func() bool {
		j := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		return i > j
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case !digits():
		p.pos = i
		return p.fail("invalid number")
	}
	if i < len(d) && d[i] == '.' {
		i++
		if !digits() {
			p.pos = i
			return p.fail("invalid number: no digit after '.'")
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if !digits() {
			p.pos = i
			return p.fail("invalid number: no digit in the exponent")
		}
	}
	n.kind, n.text = nodeNumber, string(d[start:i])
	p.pos = i
	return nil
}

// string reads a JSON string into n: its characters in Perl's UTF-8.
func (p *parser) string(n *node) error {
	n.kind = nodeString
	p.pos++ // opening quote
	start := p.pos
	d := p.data
	// Fast path: printable ASCII without escapes.
	for p.pos < len(d) && d[p.pos] >= 0x20 && d[p.pos] < 0x80 && d[p.pos] != '"' && d[p.pos] != '\\' {
		p.pos++
	}
	if p.pos < len(d) && d[p.pos] == '"' {
		n.text = string(d[start:p.pos])
		p.pos++
		return nil
	}
	buf := append([]byte(nil), d[start:p.pos]...)
	for {
		if p.pos >= len(d) {
			return p.fail("unterminated string")
		}
		c := d[p.pos]
		switch {
		case c == '"':
			p.pos++
			n.text = string(buf)
			return nil
		case c < 0x20:
			return p.fail("control character in a string")
		case c == '\\':
			r, err := p.escape()
			if err != nil {
				return err
			}
			n.wide = n.wide || r > 0xff
			buf = appendPerlChar(buf, r)
		case c < 0x80:
			buf = append(buf, c)
			p.pos++
		default:
			r, size := utf8.DecodeRune(d[p.pos:])
			if r == utf8.RuneError && size <= 1 {
				return p.fail("invalid UTF-8 in a string")
			}
			n.wide = n.wide || r > 0xff
			buf = append(buf, d[p.pos:p.pos+size]...)
			p.pos += size
		}
	}
}

func (p *parser) escape() (rune, error) {
	d := p.data
	if p.pos+1 >= len(d) {
		return 0, p.fail("unterminated escape")
	}
	c := d[p.pos+1]
	p.pos += 2
	switch c {
	case '"', '\\', '/':
		return rune(c), nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'u':
		r, ok := hex4(d[p.pos:])
		if !ok {
			return 0, p.fail(`invalid \u escape`)
		}
		p.pos += 4
		if r >= 0xd800 && r < 0xdc00 && len(d) >= p.pos+6 && d[p.pos] == '\\' && d[p.pos+1] == 'u' {
			if lo, ok := hex4(d[p.pos+2:]); ok && lo >= 0xdc00 && lo <= 0xdfff {
				p.pos += 6
				return 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00), nil
			}
		}
		return r, nil
	}
	p.pos -= 2
	return 0, p.fail(fmt.Sprintf("invalid escape \\%c", c))
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// ---- tagged JSON to Perl values ------------------------------------------

// perlValue turns n into a value as an element shows it.
func perlValue(n *node) (perl.Value, error) {
	v, _, err := elementValue(n)
	return v, err
}

// elementValue returns the value of n and whether the JSON showed the
// referent of the returned Ref directly (an array, a hash, a regexp: the
// forms $bless blesses rather than wrapping them in a scalar).
func elementValue(n *node) (perl.Value, bool, error) {
	switch n.kind {
	case nodeNull:
		return perl.Undef{}, false, nil
	case nodeBool:
		return perl.Bool(n.b), false, nil
	case nodeNumber:
		v, err := number(n)
		return v, false, err
	case nodeString:
		return stringValue(n), false, nil
	case nodeArray:
		a := &perl.Array{Elems: make([]perl.Value, len(n.elems))}
		for i := range n.elems {
			v, err := perlValue(&n.elems[i])
			if err != nil {
				return nil, false, err
			}
			a.Elems[i] = v
		}
		return perl.Ref{To: a}, true, nil
	}
	return object(n)
}

func stringValue(n *node) perl.Value {
	if n.wide {
		return perl.String(n.text)
	}
	return perl.Bytes(latin1(n.text))
}

// latin1 turns text whose characters are all below U+0100 into one byte
// per character.
func latin1(text string) []byte {
	b := make([]byte, 0, len(text))
	for _, c := range text {
		b = append(b, byte(c))
	}
	return b
}

func number(n *node) (perl.Value, error) {
	if bytes.ContainsAny([]byte(n.text), ".eE") {
		f, err := strconv.ParseFloat(n.text, 64)
		if err != nil {
			return nil, &SyntaxError{Offset: int64(n.off), Msg: "number " + n.text + " is beyond the range of a double"}
		}
		return perl.Float(f), nil
	}
	if i, err := strconv.ParseInt(n.text, 10, 64); err == nil {
		return perl.Int(i), nil
	}
	if u, err := strconv.ParseUint(n.text, 10, 64); err == nil {
		return perl.Uint(u), nil
	}
	return nil, &SyntaxError{Offset: int64(n.off), Msg: "integer " + n.text + " is outside -2**63 .. 2**64-1"}
}

// The key sets that make an object a tag, sorted.
var tagShapes = map[string]string{
	"$ref":              "ref",
	"$bless\x00$value":  "bless",
	"$bless\x00$hook":   "hook",
	"$regexp":           "regexp",
	"$flags\x00$regexp": "regexp",
	"$cycle":            "cycle",
}

func object(n *node) (perl.Value, bool, error) {
	if tag := tagOf(n); tag != "" {
		return tagged(n, tag)
	}
	h := &perl.Hash{Entries: make([]perl.HashEntry, len(n.elems))}
	seen := make(map[string]bool, len(n.elems))
	for i := range n.elems {
		k := &n.keys[i]
		if seen[k.text] {
			return nil, false, &SyntaxError{Offset: int64(k.off), Msg: "duplicate key " + strconv.Quote(k.text)}
		}
		seen[k.text] = true
		v, err := perlValue(&n.elems[i])
		if err != nil {
			return nil, false, err
		}
		e := perl.HashEntry{Key: k.text, UTF8: true, Value: v}
		if !k.wide {
			e.Key, e.UTF8 = string(latin1(k.text)), false
		}
		h.Entries[i] = e
	}
	return perl.Ref{To: h}, true, nil
}

// tagOf returns the kind of tag n is, or "" for a plain hash.
func tagOf(n *node) string {
	if len(n.keys) == 0 || len(n.keys) > 2 || n.keys[0].text == "" || n.keys[0].text[0] != '$' {
		return ""
	}
	shape := n.keys[0].text
	if len(n.keys) == 2 {
		a, b := n.keys[0].text, n.keys[1].text
		if a > b {
			a, b = b, a
		}
		shape = a + "\x00" + b
	}
	return tagShapes[shape]
}

// member returns the value of the object member named key.
func member(n *node, key string) *node {
	for i := range n.keys {
		if n.keys[i].text == key {
			return &n.elems[i]
		}
	}
	return nil
}

func tagged(n *node, tag string) (perl.Value, bool, error) {
	bad := func(at *node, msg string) (perl.Value, bool, error) {
		return nil, false, &SyntaxError{Offset: int64(at.off), Msg: msg}
	}
	switch tag {
	case "cycle":
		return bad(n, `{"$cycle": true} marks a cycle and cannot be read back`)
	case "ref":
		v, err := perlValue(member(n, "$ref"))
		if err != nil {
			return nil, false, err
		}
		return perl.Ref{To: &perl.Scalar{Value: v}}, false, nil
	case "regexp":
		pat := member(n, "$regexp")
		if pat.kind != nodeString {
			return bad(pat, "$regexp is not a string")
		}
		re := &perl.Regexp{Class: "Regexp", Pattern: pat.text, UTF8: pat.wide}
		if !pat.wide {
			re.Pattern = string(latin1(pat.text))
		}
		if fl := member(n, "$flags"); fl != nil {
			if fl.kind != nodeString {
				return bad(fl, "$flags is not a string")
			}
			re.Flags = fl.text
		}
		return perl.Ref{To: re}, true, nil
	}
	cl := member(n, "$bless")
	if cl.kind != nodeString || cl.text == "" {
		return bad(cl, "$bless is not a class name")
	}
	class := cl.text
	if tag == "hook" {
		h, err := hook(member(n, "$hook"))
		if err != nil {
			return nil, false, err
		}
		h.Class = class
		return perl.Ref{To: h}, false, nil
	}
	v, direct, err := elementValue(member(n, "$value"))
	if err != nil {
		return nil, false, err
	}
	if direct {
		perl.Bless(v.(perl.Ref).To, class)
		return v, false, nil
	}
	return perl.Ref{To: &perl.Scalar{Class: class, Value: v}}, false, nil
}

func hook(n *node) (*perl.Hook, error) {
	bad := func(at *node, msg string) (*perl.Hook, error) {
		return nil, &SyntaxError{Offset: int64(at.off), Msg: msg}
	}
	if n.kind != nodeObject {
		return bad(n, `$hook is not an object {"frozen": ..., "refs": [...]}`)
	}
	h := &perl.Hook{}
	for i := range n.keys {
		v := &n.elems[i]
		switch n.keys[i].text {
		case "frozen":
			if v.kind != nodeString || v.wide {
				return bad(v, "$hook frozen is not a byte string")
			}
			h.Frozen = latin1(v.text)
		case "refs":
			if v.kind != nodeArray {
				return bad(v, "$hook refs is not an array")
			}
			for j := range v.elems {
				r, err := perlValue(&v.elems[j])
				if err != nil {
					return nil, err
				}
				if _, ok := r.(perl.Ref); !ok {
					return bad(&v.elems[j], "$hook refs holds a value that is not a reference")
				}
				h.Refs = append(h.Refs, r)
			}
		default:
			return bad(&n.keys[i], "unknown $hook member "+strconv.Quote(n.keys[i].text))
		}
	}
	return h, nil
}

// ---- streams --------------------------------------------------------------

// Decoder reads tagged JSON values one after another from a stream
// (separated by white space, as Encoder writes them).
type Decoder struct {
	r    *bufio.Reader
	opts DecOptions
	off  int64 // stream offset of the next unread byte
}

// NewDecoder returns a Decoder reading from r with default options. It
// buffers its input, so it may read past the last value it returns.
func NewDecoder(r io.Reader) *Decoder { return DecOptions{}.NewDecoder(r) }

// NewDecoder returns a Decoder reading from r with these options.
func (o DecOptions) NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: bufio.NewReader(r), opts: o}
}

// Decode reads the next value and returns it as a root (see Unmarshal).
// At the end of the input it returns io.EOF; input that ends inside a
// value gives io.ErrUnexpectedEOF.
func (d *Decoder) Decode() (perl.Value, error) {
	raw, start, err := d.next()
	if err != nil {
		return nil, err
	}
	v, err := d.opts.Unmarshal(raw)
	var se *SyntaxError
	if errors.As(err, &se) {
		se.Offset += start
	}
	return v, err
}

// next returns the bytes of the next value and its stream offset. It
// finds the end of the value by bracket matching; the value itself is
// checked by Unmarshal.
func (d *Decoder) next() ([]byte, int64, error) {
	// Skip white space.
	for {
		c, err := d.r.ReadByte()
		if err != nil {
			return nil, 0, err // io.EOF between values
		}
		d.off++
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			_ = d.r.UnreadByte()
			d.off--
			break
		}
	}
	start := d.off
	var raw []byte
	depth, inString, escaped := 0, false, false
	for {
		c, err := d.r.ReadByte()
		if err == io.EOF {
			if len(raw) > 0 && depth == 0 && !inString && raw[0] != '"' && raw[0] != '[' && raw[0] != '{' {
				return raw, start, nil // a number or literal at the end
			}
			return nil, 0, io.ErrUnexpectedEOF
		}
		if err != nil {
			return nil, 0, err
		}
		if len(raw) > 0 && depth == 0 && !inString && raw[0] != '"' && raw[0] != '[' && raw[0] != '{' {
			// A scalar ends at the first byte that cannot continue it.
			if !(c == '-' || c == '+' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				_ = d.r.UnreadByte()
				return raw, start, nil
			}
		}
		d.off++
		raw = append(raw, c)
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
				if depth == 0 {
					return raw, start, nil
				}
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			depth--
			if depth <= 0 {
				return raw, start, nil
			}
		}
		if depth > d.maxDepth() {
			return nil, 0, &SyntaxError{Offset: d.off - 1, Msg: "nesting deeper than " + strconv.Itoa(d.maxDepth())}
		}
	}
}

func (d *Decoder) maxDepth() int {
	if d.opts.MaxDepth > 0 {
		return d.opts.MaxDepth
	}
	return DefaultMaxDepth
}
