package taggedjson

import (
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/goimp/imprpc/perl/internal/vpath"
)

// Equal reports whether two tagged JSON texts show the same value. They
// are compared as parsed JSON, never as text: numbers by value (the
// integer 3 and the double 3.0 are equal, 2**53+1 and 2.0**53 are not),
// strings by their characters, objects by their members in any order.
// Tags ($ref, $bless, $cycle, ...) are compared as the JSON they are, so
// texts that Unmarshal would refuse can be compared too. The error
// reports input that is not JSON.
func Equal(a, b []byte) (bool, error) {
	d, err := Diff(a, b)
	return d == "", err
}

// Diff compares two tagged JSON texts as Equal does and describes the
// first difference, such as
//
//	$[1].meta.cport: 40001 != "40001" (number vs string)
//
// or returns "" when they are equal.
func Diff(a, b []byte) (string, error) {
	na, err := DecOptions{}.parse(a)
	if err != nil {
		return "", fmt.Errorf("first text: %w", err)
	}
	nb, err := DecOptions{}.parse(b)
	if err != nil {
		return "", fmt.Errorf("second text: %w", err)
	}
	var path vpath.Path
	msg := diffNodes(na, nb, &path)
	if msg == "" {
		return "", nil
	}
	return path.String() + ": " + msg, nil
}

var kindNames = [...]string{
	nodeNull:   "null",
	nodeBool:   "boolean",
	nodeNumber: "number",
	nodeString: "string",
	nodeArray:  "array",
	nodeObject: "object",
}

// diffNodes returns "" when a and b are equal, else what differs, with the
// path of the difference added to path (innermost first).
func diffNodes(a, b *node, path *vpath.Path) string {
	if a.kind != b.kind {
		return short(a) + " != " + short(b) + " (" + kindNames[a.kind] + " vs " + kindNames[b.kind] + ")"
	}
	switch a.kind {
	case nodeNull:
		return ""
	case nodeBool:
		if a.b != b.b {
			return short(a) + " != " + short(b)
		}
	case nodeNumber:
		if !sameNumber(a.text, b.text) {
			return a.text + " != " + b.text
		}
	case nodeString:
		if a.text != b.text {
			return short(a) + " != " + short(b)
		}
	case nodeArray:
		for i := range min(len(a.elems), len(b.elems)) {
			if msg := diffNodes(&a.elems[i], &b.elems[i], path); msg != "" {
				path.Index(i)
				return msg
			}
		}
		if len(a.elems) != len(b.elems) {
			return fmt.Sprintf("array of %d elements != array of %d elements", len(a.elems), len(b.elems))
		}
	case nodeObject:
		return diffObjects(a, b, path)
	}
	return ""
}

func diffObjects(a, b *node, path *vpath.Path) string {
	ia, ib := objectIndex(a), objectIndex(b)
	keys := make([]string, 0, len(ia)+len(ib))
	for k := range ia {
		keys = append(keys, k)
	}
	for k := range ib {
		if _, ok := ia[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		va, okA := ia[k]
		vb, okB := ib[k]
		switch {
		case !okA:
			return "key " + strconv.Quote(k) + " only in the second"
		case !okB:
			return "key " + strconv.Quote(k) + " only in the first"
		}
		if msg := diffNodes(va, vb, path); msg != "" {
			path.Key(k)
			return msg
		}
	}
	return ""
}

// objectIndex maps an object's keys to their values (the last one wins for
// a key given twice, as most JSON readers do).
func objectIndex(n *node) map[string]*node {
	m := make(map[string]*node, len(n.keys))
	for i := range n.keys {
		m[n.keys[i].text] = &n.elems[i]
	}
	return m
}

// sameNumber compares two JSON numbers exactly, whatever their spelling.
func sameNumber(a, b string) bool {
	if a == b {
		return true
	}
	ra, okA := exactNumber(a)
	rb, okB := exactNumber(b)
	return okA && okB && ra.Cmp(rb) == 0
}

// exactNumber returns the value of a JSON number: an integer exactly, a
// double as the float64 it reads as.
func exactNumber(s string) (*big.Rat, bool) {
	if strings.ContainsAny(s, ".eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, false
		}
		return new(big.Rat).SetFloat64(f), true
	}
	return new(big.Rat).SetString(s)
}

// short describes a node in a few characters for a difference message.
func short(n *node) string {
	switch n.kind {
	case nodeNull:
		return "null"
	case nodeBool:
		return strconv.FormatBool(n.b)
	case nodeNumber:
		return n.text
	case nodeString:
		s := n.text
		if len(s) > 40 {
			return strconv.Quote(s[:40]) + fmt.Sprintf("... (%d bytes)", len(s))
		}
		return strconv.Quote(s)
	case nodeArray:
		return fmt.Sprintf("array of %d elements", len(n.elems))
	}
	keys := make([]string, len(n.keys))
	for i := range n.keys {
		keys[i] = strconv.Quote(n.keys[i].text)
	}
	slices.Sort(keys)
	if len(keys) > 4 {
		keys = append(keys[:4], "...")
	}
	return "{" + strings.Join(keys, ", ") + "}"
}
