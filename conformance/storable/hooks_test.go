package storable_test

import "github.com/goimp/imprpc/perl"

// thawHooks returns v with every hook object replaced by what the
// STORABLE_thaw of its class in perl-fixtures/storable-classes.pl makes of
// it, so that Go's view of an image can be compared with Perl's:
//
//	StHook        {f => frozen, r => [refs]}  (r only when there are refs)
//	StHookArray   [frozen, refs...]
//	StHookScalar  \frozen
//
// Shared and cyclic references to a hook object point at its replacement.
// The containers of v are changed in place, so call it last.
func thawHooks(v perl.Value) perl.Value {
	w := hookWalker{repl: map[*perl.Hook]perl.Referent{}, seen: map[perl.Referent]bool{}}
	w.collect(v)
	if len(w.repl) == 0 {
		return v
	}
	return w.rewrite(v)
}

type hookWalker struct {
	repl map[*perl.Hook]perl.Referent
	seen map[perl.Referent]bool
}

// collect finds every hook object and makes its (still empty) replacement.
func (w *hookWalker) collect(v perl.Value) {
	walk(v, func(x perl.Value) {
		h, ok := x.(*perl.Hook)
		if !ok {
			return
		}
		switch h.Type {
		case perl.HookArray:
			w.repl[h] = &perl.Array{Class: h.Class}
		case perl.HookScalar:
			w.repl[h] = &perl.Scalar{Class: h.Class}
		default:
			w.repl[h] = &perl.Hash{Class: h.Class}
		}
	})
}

// walk calls visit for v and everything v holds or refers to, each
// referent once.
func walk(v perl.Value, visit func(perl.Value)) {
	seen := map[perl.Referent]bool{}
	var rec func(v perl.Value)
	rec = func(v perl.Value) {
		visit(v)
		var r perl.Referent
		switch x := v.(type) {
		case perl.Ref:
			r = x.To
			if r != nil && !seen[r] {
				visit(r)
			}
		case perl.Referent:
			r = x
		default:
			return
		}
		if r == nil || seen[r] {
			return
		}
		seen[r] = true
		switch x := r.(type) {
		case *perl.Array:
			for _, e := range x.Elems {
				rec(e)
			}
		case *perl.Hash:
			for _, e := range x.Entries {
				rec(e.Value)
			}
		case *perl.Scalar:
			rec(x.Value)
		case *perl.Hook:
			for _, e := range x.Refs {
				rec(e)
			}
		}
	}
	rec(v)
}

// rewrite replaces hook objects in v and below.
func (w *hookWalker) rewrite(v perl.Value) perl.Value {
	switch x := v.(type) {
	case perl.Ref:
		x.To = w.referent(x.To)
		return x
	case perl.Referent:
		return w.referent(x)
	}
	return v
}

func (w *hookWalker) referent(r perl.Referent) perl.Referent {
	if h, ok := r.(*perl.Hook); ok {
		n := w.repl[h]
		if !w.seen[n] {
			w.seen[n] = true
			w.fill(h, n)
		}
		return n
	}
	if r == nil || w.seen[r] {
		return r
	}
	w.seen[r] = true
	switch x := r.(type) {
	case *perl.Array:
		for i, e := range x.Elems {
			x.Elems[i] = w.rewrite(e)
		}
	case *perl.Hash:
		for i := range x.Entries {
			x.Entries[i].Value = w.rewrite(x.Entries[i].Value)
		}
	case *perl.Scalar:
		x.Value = w.rewrite(x.Value)
	}
	return r
}

// fill gives the replacement n of hook h its contents.
func (w *hookWalker) fill(h *perl.Hook, n perl.Referent) {
	refs := make([]perl.Value, len(h.Refs))
	for i, e := range h.Refs {
		refs[i] = w.rewrite(e)
	}
	frozen := append(perl.Bytes{}, h.Frozen...)
	switch x := n.(type) {
	case *perl.Array:
		x.Elems = append([]perl.Value{frozen}, refs...)
	case *perl.Scalar:
		x.Value = frozen
	case *perl.Hash:
		x.Set("f", frozen)
		if len(refs) > 0 {
			x.Set("r", perl.ArrayRef(refs...))
		}
	}
}
