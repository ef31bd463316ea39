package perl

import (
	"math"
	"strconv"
)

// Bless sets the package r is blessed into ("" = not blessed), whatever
// kind of referent it is, as Perl's bless does.
func Bless(r Referent, class string) {
	switch x := r.(type) {
	case *Array:
		x.Class = class
	case *Hash:
		x.Class = class
	case *Scalar:
		x.Class = class
	case *Regexp:
		x.Class = class
	case *Hook:
		x.Class = class
	}
}

// IsNil reports whether v is nil or a nil pointer of one of the referent
// types (such as (*Array)(nil)): a Value that holds no Perl value.
func IsNil(v Value) bool {
	switch v := v.(type) {
	case nil:
		return true
	case *Array:
		return v == nil
	case *Hash:
		return v == nil
	case *Scalar:
		return v == nil
	case *Regexp:
		return v == nil
	case *Hook:
		return v == nil
	}
	return false
}

// FormatFloat formats f as Perl prints a double: "%.15g", and "Inf",
// "-Inf", "NaN" (so 0.1 prints "0.1" and 1/3 "0.333333333333333").
func FormatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return "NaN"
	}
	return strconv.FormatFloat(f, 'g', 15, 64)
}
