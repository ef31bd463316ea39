package taggedjson_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/conformance/internal/perlproc"
	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/perl/taggedjson"
)

func mustMarshal(v perl.Value) string {
	GinkgoHelper()
	b, err := taggedjson.Marshal(v)
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}

// expectSameValue checks two tagged JSON texts as values and says where
// they differ.
func expectSameValue(got, want string) {
	GinkgoHelper()
	diff, err := taggedjson.Diff([]byte(got), []byte(want))
	Expect(err).NotTo(HaveOccurred())
	Expect(diff).To(BeEmpty(), "got  %s\nwant %s", got, want)
}

func selfScalar() *perl.Scalar {
	s := &perl.Scalar{}
	s.Value = perl.Ref{To: s}
	return s
}

func selfArray() *perl.Array {
	a := &perl.Array{}
	a.Elems = []perl.Value{perl.Ref{To: a}}
	return a
}

func allBytes() perl.Bytes {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

var _ = Describe("Perl's to_tagged_json", func() {
	DescribeTable("shows a Perl value as Go's Marshal shows the same perl.Value",
		func(expr string, v perl.Value) {
			got, err := perlCall("show", "perl", expr)
			Expect(err).NotTo(HaveOccurred())
			want := mustMarshal(v)
			expectSameValue(got, want)
			Expect(got).To(Equal(want), "both printers spell it alike")
		},
		Entry("undef is null", "undef", perl.Undef{}),
		Entry("!!1 is true (a 5.36 boolean)", "!!1", perl.Bool(true)),
		Entry("!!0 is false", "!!0", perl.Bool(false)),
		Entry("an integer", "42", perl.Int(42)),
		Entry("a negative integer", "-1", perl.Int(-1)),
		Entry("the largest UV exactly", "18446744073709551615", perl.Uint(math.MaxUint64)),
		Entry("the smallest IV exactly", "-9223372036854775807 - 1", perl.Int(math.MinInt64)),
		Entry("2**53+1 exactly", "9007199254740993", perl.Int(1<<53+1)),
		Entry("a double", "0.1", perl.Float(0.1)),
		Entry("an integral double keeps its point", "1.0", perl.Float(1)),
		Entry("a third in 17 digits", "1/3", perl.Float(1.0/3)),
		Entry("1e300 with an exponent", "1e300", perl.Float(1e300)),
		Entry("1e21 with an exponent", "1e21", perl.Float(1e21)),
		Entry("1e20 in full", "1e20", perl.Float(1e20)),
		Entry("1e-7 with an exponent", "1e-7", perl.Float(1e-7)),
		Entry("the smallest subnormal", "4.9406564584124654e-324", perl.Float(5e-324)),
		Entry("negative zero", "-0.0", perl.Float(math.Copysign(0, -1))),
		Entry("inf as a string", "9**9**9", perl.Float(math.Inf(1))),
		Entry("-inf as a string", "-9**9**9", perl.Float(math.Inf(-1))),
		Entry("nan as a string", "my $i = 9**9**9; $i - $i", perl.Float(math.NaN())),
		Entry("a string that looks like a number stays a string", `"3000"`, perl.Bytes("3000")),
		Entry("a printed number stays a number", `my $n = 7.9; my $s = "$n"; $n`, perl.Float(7.9)),
		Entry("a printed integer stays an integer", `my $n = 40001; my $s = "$n"; $n`, perl.Int(40001)),
		Entry("a byte string", `"caf\xe9"`, perl.Bytes("caf\xe9")),
		Entry("every byte value", "join '', map chr, 0..255", allBytes()),
		Entry("a UTF-8 string with a character above U+FFFF", `"\x{263a}\x{1F600}"`, perl.String("\u263a\U0001F600")),
		Entry("an upgraded Latin-1 string shows like the bytes", `my $s = "caf\xe9"; utf8::upgrade($s); $s`, perl.String("caf\u00e9")),
		Entry("a v-string shows its characters", "v1.22.333", perl.VString{Literal: "v1.22.333", Value: perl.String("\x01\x16\u014d")}),
		Entry("nested arrays", "[1, [2, []]]", perl.ArrayRef(perl.Int(1), perl.ArrayRef(perl.Int(2), perl.ArrayRef()))),
		Entry("a hash with sorted keys", `{b => 1, a => [], "\x{263a}" => 2, "\xe9" => 3}`, perl.HashRef(func() *perl.Hash {
			h := perl.NewHash(4)
			h.Set("b", perl.Int(1))
			h.Set("a", perl.ArrayRef())
			h.Set("\u263a", perl.Int(2))
			h.Entries = append(h.Entries, perl.HashEntry{Key: "\xe9", Value: perl.Int(3)})
			return h
		}())),
		Entry("a reference to a string", `\"a"`, perl.ScalarRef(perl.Bytes("a"))),
		Entry("a reference to a reference", `\\"a"`, perl.ScalarRef(perl.ScalarRef(perl.Bytes("a")))),
		Entry("a reference to an array reference", `\[1]`, perl.ScalarRef(perl.ArrayRef(perl.Int(1)))),
		Entry("a blessed array", `bless [1], "A"`, perl.Ref{To: &perl.Array{Class: "A", Elems: []perl.Value{perl.Int(1)}}}),
		Entry("a blessed hash", `bless {}, "My::Class"`, perl.Ref{To: &perl.Hash{Class: "My::Class"}}),
		Entry("a blessed scalar without the $ref layer", `my $x = "x"; bless \$x, "A"`, perl.Ref{To: &perl.Scalar{Class: "A", Value: perl.Bytes("x")}}),
		Entry("a blessed scalar holding a blessed array", `my $x = bless [], "B"; bless \$x, "A"`,
			perl.Ref{To: &perl.Scalar{Class: "A", Value: perl.Ref{To: &perl.Array{Class: "B"}}}}),
		Entry("a regexp", `qr/^end\s*$/mi`, perl.Ref{To: &perl.Regexp{Class: "Regexp", Pattern: `^end\s*$`, Flags: "mi"}}),
		Entry("a regexp without flags", `qr/\r\n\r\n/`, perl.Ref{To: &perl.Regexp{Class: "Regexp", Pattern: `\r\n\r\n`}}),
		Entry("a reblessed regexp", `bless qr/y/, "Foo"`, perl.Ref{To: &perl.Regexp{Class: "Foo", Pattern: "y"}}),
		Entry("an array holding a reference to itself", `my @a; push @a, \@a; \@a`, perl.Ref{To: selfArray()}),
		Entry("a scalar holding a reference to itself", `my $x; $x = \$x; $x`, perl.Ref{To: selfScalar()}),
		Entry("an element that is a reference to itself", `my @a = (undef); $a[0] = \$a[0]; \@a`,
			perl.ArrayRef(selfScalar())),
		Entry("a blessed object in a cycle", `my $o = bless {}, "Node"; $o->{self} = $o; $o`, func() perl.Value {
			h := &perl.Hash{Class: "Node"}
			h.Set("self", perl.Ref{To: h})
			return perl.Ref{To: h}
		}()),
		Entry("shared data, not a cycle, shows twice", `my $r = [1]; [$r, $r]`, func() perl.Value {
			r := perl.ArrayRef(perl.Int(1))
			return perl.ArrayRef(r, r)
		}()),
		Entry("an array with a hole shows null", `my @a; $a[2] = 1; \@a`, perl.ArrayRef(perl.Undef{Of: perl.UndefHole}, perl.Undef{Of: perl.UndefHole}, perl.Int(1))),
	)

	DescribeTable("shows the root of a Storable image as Go shows a root referent",
		func(expr string, root perl.Value) {
			got, err := perlCall("show_referent", "perl", expr)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(mustMarshal(root)))
		},
		Entry(`\"a" shows "a"`, `\"a"`, &perl.Scalar{Value: perl.Bytes("a")}),
		Entry(`\\"a" shows {"$ref":"a"}`, `\\"a"`, perl.ScalarRef(perl.Bytes("a"))),
		Entry("[1] shows [1]", `[1]`, perl.NewArray(perl.Int(1))),
		Entry("a blessed scalar shows $bless", `my $x = 1; bless \$x, "A"`, &perl.Scalar{Class: "A", Value: perl.Int(1)}),
		Entry("a scalar cycle at the root", `my $x; $x = \$x; \$x`, selfScalar()),
	)

	It("refuses a code point beyond U+10FFFF, as Go does", func() {
		_, err := perlCall("show", "perl", `"\x{110000}"`)
		var se *perlproc.ScriptError
		Expect(err).To(BeAssignableToTypeOf(se))
		Expect(err.Error()).To(ContainSubstring("beyond U+10FFFF"))
		_, err = taggedjson.Marshal(perl.String("\xf4\x90\x80\x80"))
		Expect(err).To(MatchError(ContainSubstring("beyond U+10FFFF")))
	})
})

var _ = Describe("Perl's from_tagged_json", func() {
	DescribeTable("reads what Go writes and shows it again unchanged",
		func(v perl.Value) {
			text := mustMarshal(v)
			got, err := perlCall("roundtrip", "tj", text)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(text))
		},
		Entry("integers at the edges", perl.NewArray(perl.Int(math.MinInt64), perl.Int(math.MaxInt64), perl.Uint(math.MaxUint64), perl.Int(0), perl.Int(-1))),
		Entry("doubles stay doubles", perl.NewArray(perl.Float(1), perl.Float(-0.0), perl.Float(0.1), perl.Float(1e300), perl.Float(5e-324), perl.Float(1<<53))),
		Entry("strings: bytes, Latin-1, wide, astral, controls", perl.NewArray(perl.Bytes(""), allBytes(), perl.String("\u263a\U0001F600\U0010FFFF"))),
		Entry("booleans and undef", perl.NewArray(perl.Bool(true), perl.Bool(false), perl.Undef{})),
		Entry("references, blessings and regexps", perl.NewArray(
			perl.ScalarRef(perl.ScalarRef(perl.Int(1))),
			perl.Ref{To: &perl.Hash{Class: "Obj", Entries: []perl.HashEntry{{Key: "\u263a", UTF8: true, Value: perl.ArrayRef()}}}},
			perl.Ref{To: &perl.Scalar{Class: "Box", Value: perl.Bytes("x")}},
			perl.Ref{To: &perl.Scalar{Class: "Box", Value: perl.ScalarRef(perl.Int(2))}},
			perl.Ref{To: &perl.Scalar{Class: "Box", Value: perl.Ref{To: &perl.Array{Class: "Inner"}}}},
			perl.Ref{To: &perl.Regexp{Class: "Regexp", Pattern: "^a\\s+$", Flags: "mi"}},
			perl.Ref{To: &perl.Regexp{Class: "Regexp", Pattern: "\u263a", UTF8: true, Flags: "u"}},
			perl.Ref{To: &perl.Regexp{Class: "Other", Pattern: "x", Flags: "x"}},
		)),
		Entry("an IMP new_analyzer context", perl.NewArray(perl.Int(1), perl.HashRef(func() *perl.Hash {
			meta := perl.NewHash(3)
			meta.Set("caddr", perl.Bytes("192.0.2.10"))
			meta.Set("cport", perl.Int(40001))
			meta.Set("lport", perl.Bytes("3000"))
			h := perl.NewHash(1)
			h.Set("meta", perl.HashRef(meta))
			return h
		}()))),
	)

	DescribeTable("reads a root as the referent of a Storable image",
		func(text string) {
			got, err := perlCall("referent_roundtrip", "tj", text)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(text))
			v, err := taggedjson.Unmarshal([]byte(text))
			Expect(err).NotTo(HaveOccurred())
			Expect(mustMarshal(v)).To(Equal(text), "Go reads and shows the root alike")
		},
		Entry("a string", `"a"`),
		Entry("a reference to a string", `{"$ref":"a"}`),
		Entry("an array", `[1,{"$ref":2}]`),
		Entry("a blessed scalar", `{"$bless":"A","$value":"x"}`),
		Entry("a blessed hash", `{"$bless":"A","$value":{"k":1.5}}`),
		Entry("a blessed scalar holding a blessed array", `{"$bless":"A","$value":{"$bless":"B","$value":[]}}`),
		Entry("a regexp", `{"$regexp":"a","$flags":"i"}`),
	)

	DescribeTable("refuses what cannot be built, as Go's Unmarshal does",
		func(text, msg string) {
			_, err := perlCall("roundtrip", "tj", text)
			Expect(err).To(MatchError(ContainSubstring(msg)))
			_, err = taggedjson.Unmarshal([]byte(text))
			var se *taggedjson.SyntaxError
			Expect(err).To(BeAssignableToTypeOf(se))
		},
		Entry("a cycle marker", `[{"$cycle":true}]`, "cannot be built"),
		Entry("an integer above 2**64-1", `18446744073709551616`, "out of range"),
		Entry("an integer below -2**63", `-9223372036854775809`, "out of range"),
		Entry("a double beyond the range", `1e999`, "out of range"),
		Entry("a duplicate key", `{"a":1,"a":2}`, "duplicate key"),
		Entry("a cut value", `[1,`, "unexpected end of input"),
		Entry("data after the value", `1 2`, "data after the value"),
	)

	It("keeps 2000 random doubles exactly, spelled as Go spells them", func() {
		r := rand.New(rand.NewPCG(7, 11))
		a := perl.NewArray()
		for len(a.Elems) < 2000 {
			f := math.Float64frombits(r.Uint64())
			if len(a.Elems)%2 == 0 {
				f = r.NormFloat64() * math.Pow(10, float64(r.IntN(50)-25))
			}
			if !math.IsNaN(f) && !math.IsInf(f, 0) {
				a.Elems = append(a.Elems, perl.Float(f))
			}
		}
		text := mustMarshal(a)
		got, err := perlCall("roundtrip", "tj", text)
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(Equal(text))
	})
})

var _ = Describe("The Perl module's own tests", func() {
	It("pass (perl-fixtures/t)", func() {
		root, err := perlproc.RepoRoot()
		Expect(err).NotTo(HaveOccurred())
		dir := filepath.Join(root, perlproc.FixturesDir)
		tests, err := filepath.Glob(filepath.Join(dir, "t", "*.t"))
		Expect(err).NotTo(HaveOccurred())
		Expect(tests).NotTo(BeEmpty())
		for _, test := range tests {
			cmd := exec.Command("perl", "-I"+filepath.Join(dir, "lib"), test)
			out, err := cmd.CombinedOutput()
			Expect(err).NotTo(HaveOccurred(), "%s:\n%s", test, out)
			Expect(string(out)).NotTo(ContainSubstring("not ok"))
		}
	})
})

var _ = Describe("The golden vectors' tagged JSON", func() {
	var texts map[string]json.RawMessage

	BeforeEach(func() {
		shared, err := perlproc.SharedDir()
		if err != nil {
			Skip("golden vectors are not available: " + err.Error())
		}
		texts = goldenTexts(shared)
	})

	It("reads in Go and shows again as the same values", func() {
		Expect(texts).NotTo(BeEmpty())
		for name, raw := range texts {
			v, err := taggedjson.Unmarshal(raw)
			Expect(err).NotTo(HaveOccurred(), name)
			text := mustMarshal(v)
			diff, err := taggedjson.Diff(raw, []byte(text))
			Expect(err).NotTo(HaveOccurred(), name)
			Expect(diff).To(BeEmpty(), "%s: %s", name, raw)
			Expect(strings.IndexFunc(text, func(r rune) bool { return r < 0x20 || r > 0x7e })).To(Equal(-1), "%s: output is printable ASCII: %s", name, text)
		}
	})

	It("reads in Perl and shows again as the same values", func() {
		for name, raw := range texts {
			got, err := perlCall("roundtrip", "tj", string(raw))
			Expect(err).NotTo(HaveOccurred(), name)
			diff, err := taggedjson.Diff(raw, []byte(got))
			Expect(err).NotTo(HaveOccurred(), name)
			Expect(diff).To(BeEmpty(), "%s: %s", name, raw)
		}
	})
})

// goldenTexts returns every tagged JSON text of the golden files: the
// args and *_decoded of each vector and the args of each stream frame.
func goldenTexts(shared string) map[string]json.RawMessage {
	GinkgoHelper()
	texts := map[string]json.RawMessage{}
	var vectors struct {
		Vectors []map[string]json.RawMessage `json:"vectors"`
	}
	readJSON(filepath.Join(shared, "golden", "imprpc-vectors.json"), &vectors)
	Expect(vectors.Vectors).NotTo(BeEmpty())
	for _, v := range vectors.Vectors {
		var name string
		Expect(json.Unmarshal(v["name"], &name)).To(Succeed())
		for _, field := range []string{"args", "storable_decoded", "sereal_decoded"} {
			if raw, ok := v[field]; ok {
				texts[name+" "+field] = raw
			}
		}
	}
	var streams struct {
		Streams []struct {
			Name   string `json:"name"`
			Frames []struct {
				Args json.RawMessage `json:"args"`
			} `json:"frames"`
		} `json:"streams"`
	}
	readJSON(filepath.Join(shared, "golden", "imprpc-streams.json"), &streams)
	for _, s := range streams.Streams {
		for i, f := range s.Frames {
			texts[fmt.Sprintf("%s frame %d", s.Name, i)] = f.Args
		}
	}
	return texts
}

func readJSON(path string, v any) {
	GinkgoHelper()
	data, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	Expect(json.Unmarshal(data, v)).To(Succeed())
}
