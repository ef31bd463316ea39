package conn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/goimp/imprpc/conn/conntest"
	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/perl/taggedjson"
)

// formats are the two wires with the names the golden files use. Sereal
// writes protocol 5 here, as Perl's Sereal::Encoder 5.x does.
var formats = []struct {
	name string
	opts Options
}{
	{conntest.Storable, Options{Format: Storable}},
	{conntest.Sereal, Options{Format: Sereal, SerealProtocol: 5}},
}

func loadVectors(t testing.TB) []conntest.Vector {
	t.Helper()
	vs, err := conntest.Vectors()
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 147 {
		t.Fatalf("%d golden vectors, want 147", len(vs))
	}
	return vs
}

// argsMessage builds the message of op from tagged JSON arguments.
func argsMessage(t testing.TB, op Op, args json.RawMessage) (Message, error) {
	t.Helper()
	v, err := taggedjson.Unmarshal(args)
	if err != nil {
		t.Fatalf("tagged JSON %s: %v", args, err)
	}
	return ParseMessage(op, v.(*perl.Array).Elems)
}

// jsonOf returns the JSON form of m, or of the unknown op in err.
func jsonOf(t testing.TB, m Message, err error) []byte {
	t.Helper()
	var ue *UnknownOpError
	if errors.As(err, &ue) {
		m, err = ue.Message(), nil
	}
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	j, err := AppendJSON(nil, m)
	if err != nil {
		t.Fatalf("JSON of %T: %v", m, err)
	}
	return j
}

func sameJSON(t testing.TB, what string, got, want []byte) {
	t.Helper()
	if d, err := taggedjson.Diff(got, want); err != nil || d != "" {
		t.Errorf("%s: JSON differs (%v): %s\n got %s\nwant %s", what, err, d, got, want)
	}
}

// Every vector of both wires decodes to the message its arguments
// describe, by the fast path and the general decoder alike, and encodes
// again to the same bytes.
func TestGoldenVectorsDecode(t *testing.T) {
	for _, v := range loadVectors(t) {
		for _, f := range formats {
			t.Run(v.Name+"/"+f.name, func(t *testing.T) {
				w := f.opts.MustWire()
				frame := v.Frame(f.name)
				m, err := w.Decode(frame)
				want, werr := argsMessage(t, Op(v.Opcode), v.WireArgs(f.name))
				sameJSON(t, "decoded", jsonOf(t, m, err), jsonOf(t, want, werr))

				g, gerr := decodeGeneral(w, frame)
				if d := diffResults(m, err, g, gerr); d != "" {
					t.Errorf("fast path and general decoder differ: %s", d)
				}
				if err != nil {
					return
				}
				re, err := w.Append(nil, m)
				if err != nil {
					t.Fatalf("re-encode: %v", err)
				}
				if !bytes.Equal(re, frame) && !(f.name == conntest.Sereal && v.Name == "new_analyzer_repeated_keys") {
					t.Errorf("re-encoded frame differs\n got %x\nwant %x", re, frame)
				}
			})
		}
	}
}

// The encoders write Perl's bytes for the arguments Perl encoded, for
// every deterministic vector; with SortKeys, the sorted bytes of the
// others.
func TestGoldenVectorsEncode(t *testing.T) {
	for _, v := range loadVectors(t) {
		for _, f := range formats {
			t.Run(v.Name+"/"+f.name, func(t *testing.T) {
				m, err := argsMessage(t, Op(v.Opcode), v.Args)
				var ue *UnknownOpError
				if errors.As(err, &ue) {
					m, err = ue.Message(), nil
				}
				if err != nil {
					t.Fatal(err)
				}
				if v.Name == "data_latin1_upgraded" {
					// Tagged JSON does not show the UTF-8 flag of a
					// string of Latin-1 characters.
					d := m.(*Data)
					d.Data, d.UTF8 = []byte(perl.Latin1ToUTF8(string(d.Data))), true
				}
				if v.Name == "result_log_doubles" {
					// The JSON shows the doubles 2**53 and 3.0 as
					// integers: make them doubles again.
					args := m.(*Result).Result.Args
					for i := 6; i < len(args); i += 2 {
						if n, ok := args[i].(perl.Int); ok {
							args[i] = perl.Float(n)
						}
					}
				}
				want := v.Frame(f.name)
				opts := f.opts
				if !v.Deterministic {
					opts.SortKeys = true
					want = v.SortedFrame(f.name)
				}
				w := opts.MustWire()
				got, err := w.Append(nil, m)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) && !(f.name == conntest.Sereal && v.Name == "new_analyzer_repeated_keys") {
					t.Errorf("frame differs\n got %x\nwant %x", got, want)
				}
				gen, err := appendGeneral(w, nil, m)
				if err != nil || !bytes.Equal(gen, got) {
					t.Errorf("fast path and general encoder differ (%v)\n fast %x\n  gen %x", err, got, gen)
				}
			})
		}
	}
}

func decodeGeneral(w Wire, frame []byte) (Message, error) {
	return decodeGeneralState(w, frame, 0, readState{})
}

func decodeGeneralState(w Wire, frame []byte, off int64, st readState) (Message, error) {
	switch w := w.(type) {
	case *storableWire:
		return w.decodeGeneral(frame, off, false, st)
	case *serealWire:
		return w.decodeGeneral(frame, off, false, st)
	}
	panic("unknown wire")
}

func appendGeneral(w Wire, dst []byte, m Message) ([]byte, error) {
	switch w := w.(type) {
	case *storableWire:
		return w.appendGeneral(dst, m)
	case *serealWire:
		return w.appendGeneral(dst, m)
	}
	panic("unknown wire")
}

// diffResults compares two decoding outcomes exactly (perl.Equal on the
// Perl values, every field).
func diffResults(a Message, aerr error, b Message, berr error) string {
	if (aerr == nil) != (berr == nil) {
		return fmt.Sprintf("errors %v / %v", aerr, berr)
	}
	if aerr != nil {
		if aerr.Error() != berr.Error() {
			return fmt.Sprintf("errors %q / %q", aerr, berr)
		}
		return ""
	}
	return diffMessages(a, b)
}

// diffMessages compares two messages exactly: "" when equal.
func diffMessages(a, b Message) string {
	if fmt.Sprintf("%T", a) != fmt.Sprintf("%T", b) {
		return fmt.Sprintf("%T != %T", a, b)
	}
	av := perl.NewArray(append([]perl.Value{perl.Int(a.Op())}, Args(a)...)...)
	bv := perl.NewArray(append([]perl.Value{perl.Int(b.Op())}, Args(b)...)...)
	if d := perl.Diff(av, bv); d != "" {
		return d
	}
	if a, ok := a.(*Exception); ok && a.NoID != b.(*Exception).NoID {
		return "NoID differs"
	}
	return ""
}
