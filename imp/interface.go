package imp

import (
	"slices"
	"strings"
)

// Interface is a data type and the result types used with it: the
// [data_type, [result_type...]] pairs of Net::IMP's get_interface and
// set_interface.
//
// In a plugin's own interfaces (Factory.Interfaces), Results lists every
// result type the plugin may emit for that data type; Net::IMP::Base's
// rules treat an empty list as "nothing but fatal". In the interfaces a
// data provider offers, Results lists the result types it can handle, and
// an empty list means "any".
//
// Results keeps the difference between a missing list (nil, Perl's undef,
// written [dtype] on the wire) and an empty one (written [dtype, []]), so
// that an interface read from a peer is echoed as it came; both mean the
// same to the matching rules.
type Interface struct {
	// DataType is the data type; it is ignored when AnyData is set.
	DataType DataType
	// AnyData makes the interface apply to every data type (Perl's
	// undef data type).
	AnyData bool
	// Results are the result types.
	Results []ResultType
}

// String formats i as Perl writes it: [imp.data.stream, [pass, deny]],
// [undef, [pass]], [imp.data.packet] for a missing result list.
func (i Interface) String() string {
	var b strings.Builder
	b.WriteByte('[')
	if i.AnyData {
		b.WriteString("undef")
	} else {
		b.WriteString(i.DataType.String())
	}
	if i.Results != nil {
		b.WriteString(", [")
		for k, t := range i.Results {
			if k > 0 {
				b.WriteString(", ")
			}
			b.WriteString(t.String())
		}
		b.WriteByte(']')
	}
	b.WriteByte(']')
	return b.String()
}

// AcceptsData reports whether data of type t fits plugin interface i
// under Net::IMP::Base's rule: i is for any data type, or for t. As in
// Perl, where 0 is false, an interface whose DataType is 0 applies to
// every data type.
func (i Interface) AcceptsData(t DataType) bool {
	return i.AnyData || i.DataType == 0 || i.DataType == t
}

// matches reports whether plugin interface i can serve the offered
// interface want, by Net::IMP::Base's get_interface.
func (i Interface) matches(want Interface) bool {
	if !i.AnyData && i.DataType != 0 {
		// Perl compares numerically: an offered undef is 0.
		if want.AnyData || want.DataType != i.DataType {
			return false
		}
	}
	if len(want.Results) == 0 {
		return true // the data provider takes any result type
	}
	need := func(t ResultType) bool {
		return !optionalResult(t) && !slices.Contains(want.Results, t)
	}
	if need(ResultFatal) {
		return false
	}
	return !slices.ContainsFunc(i.Results, need)
}

// optionalResult reports whether a data provider may lack support for t:
// pause, continue and replace_later are hints it can ignore.
func optionalResult(t ResultType) bool {
	return t == ResultPause || t == ResultContinue || t == ResultReplaceLater
}

// MatchInterfaces applies Net::IMP::Base's get_interface rules to a
// plugin's own interfaces and the interfaces a data provider offers, and
// returns the reply:
//
//   - With nothing offered, the plugin's own list (a copy).
//   - Otherwise, for each offered interface in the order offered, the
//     offered interface itself if some plugin interface matches it: the
//     first one whose data type is any (or 0) or equal to the offered one
//     (an offered "any" matches only a plugin interface for any type),
//     and, when the offered result list is not empty, each of whose result
//     types, and fatal, except pause, continue and replace_later, is in
//     the offered list. Offered interfaces that nothing matches are left
//     out; the reply may be empty.
func MatchInterfaces(own, offered []Interface) []Interface {
	if len(offered) == 0 {
		return slices.Clone(own)
	}
	var match []Interface
	for _, want := range offered {
		for _, have := range own {
			if have.matches(want) {
				match = append(match, want)
				break
			}
		}
	}
	return match
}
