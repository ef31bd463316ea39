package conn

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/perl"
)

// metaHash returns a reference to {meta => {pairs...}}.
func metaHash(pairs ...any) perl.Value {
	meta := perl.NewHash(len(pairs) / 2)
	for i := 0; i < len(pairs); i += 2 {
		meta.Set(pairs[i].(string), pairs[i+1].(perl.Value))
	}
	ctx := perl.NewHash(1)
	ctx.Set("meta", perl.HashRef(meta))
	return perl.HashRef(ctx)
}

func resultOf(id int64, t imp.ResultType, args ...perl.Value) *Result {
	return &Result{ID: id, Result: imp.Result{Type: t, Args: args}}
}

// tailCases are RPCs whose Sereal document ends in an integer outside
// -16..15: the decimal string the wire writes in its place with
// SerealStringTail, the integer as Perl writes it (tag and varint), and
// the message Go reads from the frame with the string.
var tailCases = []struct {
	name     string
	m        Message
	sortKeys bool
	decimal  string
	integer  string
	want     Message
}{
	{"result pass offset", &Result{ID: 1, Result: imp.Pass(0, 4097)}, false, "4097", "\x20\x81\x20",
		resultOf(1, imp.ResultPass, perl.Int(0), perl.Bytes("4097"))},
	{"result replace_later end", &Result{ID: 2, Result: imp.ReplaceLater(1, 100, 200000)}, false, "200000", "\x20\xc0\x9a\x0c",
		resultOf(2, imp.ResultReplaceLater, perl.Int(1), perl.Int(100), perl.Bytes("200000"))},
	{"result log with a negative extra", &Result{ID: 3, Result: imp.Log(0, 0, 5, imp.LogInfo, "msg", perl.Bytes("delta"), perl.Int(-1000))}, false, "-1000", "\x21\xcf\x0f",
		resultOf(3, imp.ResultLog, perl.Int(0), perl.Int(0), perl.Int(5), perl.Int(int64(imp.LogInfo)), perl.Bytes("msg"), perl.Bytes("delta"), perl.Bytes("-1000"))},
	{"result acctfield value", &Result{ID: 4, Result: imp.AcctField("bytes", perl.Int(123456))}, false, "123456", "\x20\xc0\xc4\x07",
		resultOf(4, imp.ResultAcctField, perl.Bytes("bytes"), perl.Bytes("123456"))},
	{"result acctfield unsigned value", resultOf(5, imp.ResultAcctField, perl.Bytes("k"), perl.Uint(1<<63)), false, "9223372036854775808", "\x20\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01",
		resultOf(5, imp.ResultAcctField, perl.Bytes("k"), perl.Bytes("9223372036854775808"))},
	{"result drop without arguments (its type)", &Result{ID: 6, Result: imp.Drop()}, false, "4353", "\x20\x81\x22",
		&Result{ID: 6, Result: imp.Drop()}},
	{"delete_analyzer id", &DeleteAnalyzer{ID: 4097}, false, "4097", "\x20\x81\x20",
		&DeleteAnalyzer{ID: 4097}},
	{"get_interface result types", &GetInterface{Interfaces: []imp.Interface{{DataType: imp.DataStream, Results: []imp.ResultType{imp.ResultPass, imp.ResultReplace}}}}, false, "4113", "\x20\x91\x20",
		&GetInterface{Interfaces: []imp.Interface{{DataType: imp.DataStream, Results: []imp.ResultType{imp.ResultPass, imp.ResultReplace}}}}},
	{"interface result types", &Interface{Interfaces: []imp.Interface{{AnyData: true}, {DataType: imp.DataStream, Results: []imp.ResultType{imp.ResultPass}}}}, false, "4097", "\x20\x81\x20",
		&Interface{Interfaces: []imp.Interface{{AnyData: true}, {DataType: imp.DataStream, Results: []imp.ResultType{imp.ResultPass}}}}},
	{"set_interface result types", &SetInterface{Interface: imp.Interface{DataType: imp.DataStream, Results: []imp.ResultType{imp.ResultPass, imp.ResultPrepass}}}, false, "4099", "\x20\x83\x20",
		&SetInterface{Interface: imp.Interface{DataType: imp.DataStream, Results: []imp.ResultType{imp.ResultPass, imp.ResultPrepass}}}},
	{"new_analyzer context lport", &NewAnalyzer{ID: 7, Context: (&imp.Meta{ClientAddr: "192.0.2.1", ClientPort: 40001, ListenPort: 3000}).Context()}, false, "3000", "\x20\xb8\x17",
		&NewAnalyzer{ID: 7, Context: metaHash("caddr", perl.Bytes("192.0.2.1"), "cport", perl.Int(40001), "lport", perl.Bytes("3000"))}},
	{"new_analyzer context, last key in sorted order", &NewAnalyzer{ID: 8, Context: metaHash("lport", perl.Int(3000), "caddr", perl.Bytes("x"))}, true, "3000", "\x20\xb8\x17",
		&NewAnalyzer{ID: 8, Context: metaHash("lport", perl.Bytes("3000"), "caddr", perl.Bytes("x"))}},
	{"get_interface without arguments (its op)", &GetInterface{}, false, "16385", "\x20\x81\x80\x01",
		&GetInterface{Interfaces: []imp.Interface{}}},
	{"interface without arguments (its op)", &Interface{}, false, "16642", "\x20\x82\x82\x01",
		&Interface{Interfaces: []imp.Interface{}}},
	{"unknown op, through a scalar reference in an array", &Raw{Code: 0x4999, Args: []perl.Value{perl.ArrayRef(perl.Int(1), perl.ScalarRef(perl.Int(99)))}}, false, "99", "\x20\x63",
		&Raw{Code: 0x4999, Args: []perl.Value{perl.ArrayRef(perl.Int(1), perl.ScalarRef(perl.Bytes("99")))}}},
}

// decodeOrRaw decodes a frame, giving an unknown op as its *Raw.
func decodeOrRaw(w Wire, frame []byte) (Message, error) {
	m, err := w.Decode(frame)
	var ue *UnknownOpError
	if errors.As(err, &ue) {
		return ue.Message(), nil
	}
	return m, err
}

// With SerealStringTail, a document that ends in an integer outside
// -16..15 ends in its decimal string instead (Perl's Sereal::Decoder
// misreads a document whose bytes end right after that integer's tag);
// the rest of the frame is what Perl writes, the fast path writes what the
// general encoder writes, the message given is not changed, and without
// the option the frame is Perl's.
func TestSerealStringTail(t *testing.T) {
	for _, tc := range tailCases {
		for _, proto := range []int{3, 5} {
			t.Run(tc.name+"/v"+itoa(proto), func(t *testing.T) {
				before, err := AppendJSON(nil, tc.m)
				if err != nil {
					t.Fatal(err)
				}
				opts := Options{Format: Sereal, SerealProtocol: proto, SortKeys: tc.sortKeys, SerealStringTail: true}
				w := opts.MustWire()
				frame, err := w.Append(nil, tc.m)
				if err != nil {
					t.Fatal(err)
				}
				str := string(rune(srlShortBin0+len(tc.decimal))) + tc.decimal
				if !strings.HasSuffix(string(frame), str) {
					t.Errorf("frame %x does not end in the string %q", frame, tc.decimal)
				}
				if gen, err := appendGeneral(w, nil, tc.m); err != nil || !bytes.Equal(gen, frame) {
					t.Errorf("fast path and general encoder differ (%v)\n fast %x\n  gen %x", err, frame, gen)
				}
				m, err := decodeOrRaw(w, frame)
				if err != nil {
					t.Fatalf("decode %x: %v", frame, err)
				}
				if d := diffMessages(m, tc.want); d != "" {
					t.Errorf("decoded: %s", d)
				}

				opts.SerealStringTail = false
				wp := opts.MustWire()
				exact, err := wp.Append(nil, tc.m)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasSuffix(string(exact), tc.integer) {
					t.Errorf("by default, frame %x does not end in %x", exact, tc.integer)
				}
				if !bytes.Equal(exact[:len(exact)-len(tc.integer)], frame[:len(frame)-len(str)]) {
					t.Errorf("frames differ before the last integer\n%x\n%x", exact, frame)
				}
				if gen, err := appendGeneral(wp, nil, tc.m); err != nil || !bytes.Equal(gen, exact) {
					t.Errorf("by default, fast path and general encoder differ (%v)\n fast %x\n  gen %x", err, exact, gen)
				}
				if m, err := decodeOrRaw(wp, exact); err != nil || diffMessages(m, tc.m) != "" {
					t.Errorf("by default, decoded %v, %v", m, err)
				}

				after, err := AppendJSON(nil, tc.m)
				if err != nil || !bytes.Equal(after, before) {
					t.Errorf("the message changed (%v)\nbefore %s\n after %s", err, before, after)
				}
			})
		}
	}
}

// Integers from -16 to 15 are one byte, strings and data end in their
// bytes, a hash whose last entry in writing order is not an integer is
// left alone: those frames are Perl's bytes with or without
// SerealStringTail.
func TestSerealStringTailUnchanged(t *testing.T) {
	for _, m := range []Message{
		&Result{ID: 100, Result: imp.Pass(1, 15)},
		&Result{ID: 100, Result: imp.Pass(1, -16)},
		&Result{ID: 100, Result: imp.Pass(1, imp.MaxOffset)},
		&Result{ID: 100, Result: imp.Replace(1, 5000, []byte("new"))},
		&Data{ID: 5000, Offset: 5000, Type: imp.DataStream, Data: []byte("data")},
		&Exception{ID: 5000, Message: perl.Bytes("gone")},
		&SetVersion{Version: 1},
		&SetInterface{Interface: imp.Interface{DataType: imp.DataStream}},
		&NewAnalyzer{ID: 5000, Context: metaHash("lport", perl.Int(3000), "caddr", perl.Bytes("x"))},
	} {
		a, err := Options{Format: Sereal}.MustWire().Append(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Options{Format: Sereal, SerealStringTail: true}.MustWire().Append(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%T: %x, with SerealStringTail %x", m, a, b)
		}
	}
}

// The Storable wire frames its documents with their length, which Perl
// waits for: it keeps Perl's integers.
func TestStorableKeepsIntegerTail(t *testing.T) {
	w := Options{}.MustWire()
	frame, err := w.Append(nil, &DeleteAnalyzer{ID: 4097})
	if err != nil {
		t.Fatal(err)
	}
	m, err := decodeGeneral(w, frame)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffMessages(m, &DeleteAnalyzer{ID: 4097}); d != "" {
		t.Fatal(d)
	}
	if args := mustMarshalArgs(t, perl.Int(4097)); !bytes.Equal(frame[6:], args) {
		t.Errorf("payload %x, want Storable's %x", frame[6:], args)
	}
}
