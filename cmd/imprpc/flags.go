package main

import (
	"flag"
	"strings"
)

// alias makes name2 another name of the flag name on fs (both set the same
// value; the help shows them on one line).
func alias(fs *flag.FlagSet, name, name2 string) {
	f := fs.Lookup(name)
	if f == nil {
		panic("imprpc: alias of unknown flag " + name)
	}
	fs.Var(f.Value, name2, f.Usage)
}

// listFlag collects every use of a repeatable flag, in order.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// optFlag is a flag whose value is optional: "-d" alone sets it to its
// Implicit value, "-d=GLOB" to GLOB.
type optFlag struct {
	Given    bool
	Value    string
	Implicit string
}

func (o *optFlag) String() string {
	if o == nil || !o.Given {
		return ""
	}
	return o.Value
}

func (o *optFlag) Set(v string) error {
	o.Given = true
	if v == "true" {
		v = o.Implicit
	}
	o.Value = v
	return nil
}

// IsBoolFlag lets the flag package accept the flag without a value.
func (o *optFlag) IsBoolFlag() bool { return true }
