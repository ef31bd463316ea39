// Package all registers the built-in IMP plugins with imp.DefaultRegistry,
// for a program that imports it for its side effect:
//
//	import _ "github.com/goimp/imprpc/plugin/all"
//
// They are:
//
//	name     alias               package
//	pattern  Net::IMP::Pattern   plugin/pattern
//	cascade  Net::IMP::Cascade   plugin/cascade
//
// The test plugins of plugin/testplugin (the Go twins of the Perl test
// plugins) are not among them: import that package where they are
// wanted.
package all

import (
	_ "github.com/goimp/imprpc/plugin/cascade" // registers cascade
	_ "github.com/goimp/imprpc/plugin/pattern" // registers pattern
)
