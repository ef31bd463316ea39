package sereal

import (
	"github.com/goimp/imprpc/perl"
)

// Go values other than perl.Value map to Perl values by package perl's
// table (perl.FromGo, perl.ToGo), with struct tags named "sereal":
//
//	type Context struct {
//		Meta map[string]any `sereal:"meta"`
//	}

// goTagKey is the struct tag key of the Go mapping.
const goTagKey = "sereal"

// unmarshalGo decodes data into v, which is not a *perl.Value.
func unmarshalGo(m *decMode, data []byte, v any) error {
	val, err := m.UnmarshalValue(data)
	if err != nil {
		return err
	}
	return perl.ToGo(val, v, perl.GoOptions{TagKey: goTagKey, MaxDepth: m.opts.MaxDepth})
}

// marshalGo converts v, which is not a perl.Value, to one.
func (m *encMode) marshalGo(v any) (perl.Value, error) {
	return perl.FromGo(v, perl.GoOptions{TagKey: goTagKey, MaxDepth: m.opts.MaxDepth})
}
