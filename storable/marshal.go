package storable

import "github.com/goimp/imprpc/perl"

// goOptions maps Go values with the struct tag key "storable".
var goOptions = perl.GoOptions{TagKey: "storable"}

// toValue turns a Go value into the perl.Value to encode: a perl.Value
// as it is, anything else through perl.FromGo.
func toValue(v any) (perl.Value, error) {
	if pv, ok := v.(perl.Value); ok {
		return pv, nil
	}
	return perl.FromGo(v, goOptions)
}

// store puts a decoded value into the Go value v points to.
func (m *decMode) store(pv perl.Value, v any) error {
	if p, ok := v.(*perl.Value); ok {
		*p = pv
		return nil
	}
	return perl.ToGo(pv, v, goOptions)
}

func (m *encMode) Marshal(v any) ([]byte, error) {
	pv, err := toValue(v)
	if err != nil {
		return nil, err
	}
	return m.AppendValue(nil, pv)
}

func (m *decMode) Unmarshal(data []byte, v any) error {
	pv, err := m.UnmarshalValue(data)
	if err != nil {
		return err
	}
	return m.store(pv, v)
}
