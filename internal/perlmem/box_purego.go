//go:build purego

package perlmem

import "github.com/goimp/imprpc/perl"

// Without unsafe, each box is allocated on its own by a plain conversion
// (see box.go for what the default build does instead).

const bulk = false

func (a *Allocator) boxBytes(b []byte) perl.Value  { return perl.Bytes(b) }
func (a *Allocator) boxString(s string) perl.Value { return perl.String(s) }
func (a *Allocator) boxRef(r perl.Ref) perl.Value  { return r }
func (a *Allocator) boxInt(v int64) perl.Value     { return perl.Int(v) }
func (a *Allocator) boxUint(v uint64) perl.Value   { return perl.Uint(v) }
func (a *Allocator) boxFloat(v float64) perl.Value { return perl.Float(v) }

func boxRefAt(c *perl.Ref) perl.Value { return *c }
