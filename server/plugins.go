package server

import (
	"errors"

	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/plugin/cascade"
)

// OpenPlugins returns the factory that imprpc_server.pl makes of its -M
// options: each spec NAME[=CONFIG] names a plugin of imp.DefaultRegistry
// (a Perl class name registered as an alias, such as Net::IMP::Pattern,
// works too); one spec gives that plugin's factory, several a cascade of
// them in the order given (Net::IMP::Cascade, package plugin/cascade).
// Every spec is checked before any factory is used: the error lists each
// problem (see imp.Open).
func OpenPlugins(specs ...string) (imp.Factory, error) {
	if len(specs) == 0 {
		return nil, errors.New("server: no plugin named")
	}
	fs, err := imp.Open(specs...)
	if err != nil {
		return nil, err
	}
	if len(fs) == 1 {
		return fs[0], nil
	}
	return cascade.New(fs...)
}
