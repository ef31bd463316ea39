// Package vpath spells locations inside a Perl value for error messages:
// $ is the root, [3] an array element, .key or ["odd key"] a hash value,
// .$ref and .$value the referent behind a reference or blessing.
//
// A Path is built innermost first while an error travels up the
// recursion, so that a walk that succeeds pays nothing for it.
package vpath

import (
	"strconv"
	"strings"
)

// Path is a location, its segments innermost first.
type Path struct {
	segs []string
}

// Index adds an array index as the next outer segment.
func (p *Path) Index(i int) { p.segs = append(p.segs, "["+strconv.Itoa(i)+"]") }

// Key adds a hash key (or struct field) as the next outer segment.
func (p *Path) Key(k string) { p.segs = append(p.segs, Key(k)) }

// Seg adds a segment spelled by the caller, such as ".$ref".
func (p *Path) Seg(s string) { p.segs = append(p.segs, s) }

// String returns the path from the root, "$" for the root itself.
func (p Path) String() string {
	var b strings.Builder
	b.WriteByte('$')
	for i := len(p.segs) - 1; i >= 0; i-- {
		b.WriteString(p.segs[i])
	}
	return b.String()
}

// Key spells one hash key segment: .name for a plain identifier, ["..."]
// (Go-quoted) for anything else.
func Key(k string) string {
	if k == "" {
		return `[""]`
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return "[" + strconv.Quote(k) + "]"
		}
	}
	return "." + k
}
