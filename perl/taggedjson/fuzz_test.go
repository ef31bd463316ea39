package taggedjson

import (
	"bytes"
	"testing"

	"github.com/goimp/imprpc/perl"
)

// Seeds: texts ImpFixture::TaggedJSON (Perl) printed for Perl values, and
// golden-vector arguments.
var fuzzSeeds = []string{
	`null`, `true`, `false`, `18446744073709551615`, `-9223372036854775808`,
	`0.1`, `1.0`, `1e+300`, `100000000000000000000.0`, `1e-07`, `0.000001`, `-0.0`,
	`"inf"`, `"-inf"`, `"nan"`, `"caf\u00e9"`, `"\u263a\ud83d\ude00"`, `"\u0000\u007f\"\\\n"`,
	`[1,[2]]`, `{"a":[],"b":1}`, `{"$ref":"a"}`, `{"$ref":{"$ref":"a"}}`,
	`{"$bless":"A","$value":[]}`, `{"$bless":"A","$value":"x"}`,
	`{"$regexp":"x+","$flags":"ui"}`, `{"$bless":"Foo","$value":{"$regexp":"y","$flags":"u"}}`,
	`"\u0001\u0002\u0003"`, `[{"$cycle":true}]`, `{"$ref":{"$cycle":true}}`, `[{"$ref":{"$cycle":true}}]`,
	`[1,{"meta":{"app":"imp_proxy","caddr":"192.0.2.10","cport":40001,"lport":"3000"}}]`,
	`[1,4098,1,{"$regexp":"^end\\s*$","$flags":"mi"},16]`,
	`[1,1,0,0,0,2,"timing","duration",0.25,"ratio",0.1,"third",0.3333333333333333]`,
	`{"$bless":"H","$hook":{"frozen":"f\u00ff","refs":[[1],{"$ref":"s"}]}}`,
}

// FuzzUnmarshal checks that Unmarshal never panics, and that what it
// accepts shows again and reads back as the same value.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Unmarshal(data)
		if err != nil {
			return
		}
		text, err := Marshal(v)
		if err != nil {
			t.Fatalf("Marshal of what Unmarshal read from %q: %v", data, err)
		}
		back, err := Unmarshal(text)
		if err != nil {
			t.Fatalf("Unmarshal of Marshal output %s: %v", text, err)
		}
		if d := perl.Diff(v, back); d != "" {
			t.Fatalf("%q -> %s reads back differently: %s", data, text, d)
		}
		again, err := Marshal(back)
		if err != nil || !bytes.Equal(again, text) {
			t.Fatalf("Marshal not stable: %s then %s (%v)", text, again, err)
		}
		if eq, err := Equal(data, text); err != nil {
			t.Fatalf("Equal(%q, %s): %v", data, text, err)
		} else if !eq && !bytes.Contains(data, []byte(`"$`)) {
			// Without tags, the text shows the same JSON value.
			d, _ := Diff(data, text)
			t.Fatalf("%q shows as %s: %s", data, text, d)
		}
	})
}
