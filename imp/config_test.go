package imp

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func nv(k string) Setting       { return Setting{Key: k, NoValue: true} }
func kv(k, v string) Setting    { return Setting{Key: k, Value: v} }
func cfgOf(s ...Setting) Config { return s }

// configCases are str2cfg's answers, checked against Net::IMP::Base when
// it is there. err is the duplicate key, if any.
var configCases = []struct {
	name  string
	in    string
	want  Config
	dup   string // the duplicate key, when isDup
	isDup bool
}{
	{"pairs", "a=1&b=2", cfgOf(kv("a", "1"), kv("b", "2")), "", false},
	{"key without = is undef", "a", cfgOf(nv("a")), "", false},
	{"key with = is empty", "a=", cfgOf(kv("a", "")), "", false},
	{"value keeps further =", "a=b=c", cfgOf(kv("a", "b=c")), "", false},
	{"empty piece is the key \"\" without value", "a=1&&b=2", cfgOf(kv("a", "1"), nv(""), kv("b", "2")), "", false},
	{"trailing & is dropped", "a=1&", cfgOf(kv("a", "1")), "", false},
	{"leading & is the key \"\"", "&a=1", cfgOf(nv(""), kv("a", "1")), "", false},
	{"two empty pieces are a duplicate", "&&a", nil, "", true},
	{"=v loses its value", "=v", cfgOf(nv("")), "", false},
	{"+ stays +", "a+b=c+d", cfgOf(kv("a+b", "c+d")), "", false},
	{"%XX decoded in keys and values", "a%3Db=c%26d%25", cfgOf(kv("a=b", "c&d%")), "", false},
	{"bad escapes kept", "a=%zz%4", cfgOf(kv("a", "%zz%4")), "", false},
	{"hex in either case", "a=%4a%4A", cfgOf(kv("a", "JJ")), "", false},
	{"bytes from escapes", "a=%E9%00%FF", cfgOf(kv("a", "\xe9\x00\xff")), "", false},
	{"duplicate key", "a=1&a=2", nil, "a", true},
	{"duplicate after decoding", "%61=1&a=2", nil, "a", true},
	{"escaped = in a key is no duplicate", "a%3d=1&a==2", cfgOf(kv("a=", "1"), kv("a", "=2")), "", false},
	{"empty string", "", nil, "", false},
	{"only &", "&", nil, "", false},
	{"value ends at a newline", "a=x\ny&b=2", cfgOf(kv("a", "x"), kv("b", "2")), "", false},
	{"key may hold a newline", "k\ny=1", cfgOf(kv("k\ny", "1")), "", false},
	{"spaces are kept", "a b=c d", cfgOf(kv("a b", "c d")), "", false},
	{"pattern config", "rx=secret%7Cpassword&rxlen=8&action=deny&actdata=found+it", cfgOf(kv("rx", "secret|password"), kv("rxlen", "8"), kv("action", "deny"), kv("actdata", "found+it")), "", false},
}

func TestParseConfig(t *testing.T) {
	for _, c := range configCases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseConfig(c.in)
			if c.isDup {
				var ce *ConfigError
				if !errors.As(err, &ce) || !reflect.DeepEqual(ce.Keys, []string{c.dup}) ||
					err.Error() != "imp: config: duplicate definition for key "+c.dup {
					t.Fatalf("ParseConfig(%q) = %v, %v; want duplicate %q", c.in, got, err, c.dup)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Fatalf("ParseConfig(%q) = %#v, %v; want %#v", c.in, got, err, c.want)
			}
		})
	}
}

func TestParseConfigPerl(t *testing.T) {
	var queries []map[string]any
	for _, c := range configCases {
		queries = append(queries, map[string]any{"op": "str2cfg", "s": latin1(c.in)})
	}
	for k, a := range askPerl(t, queries) {
		c := configCases[k]
		if e, ok := a["error"].(string); ok {
			if !c.isDup || !strings.HasPrefix(e, "duplicate definition for key ") || bytesOf(t, strings.TrimPrefix(e, "duplicate definition for key ")) != c.dup {
				t.Errorf("%s: Perl says %q, the table says duplicate %q", c.name, e, c.dup)
			}
			continue
		}
		if c.isDup {
			t.Errorf("%s: Perl accepts %q", c.name, c.in)
			continue
		}
		perlCfg := map[string]any{}
		for key, v := range a["cfg"].(map[string]any) {
			if v != nil {
				v = bytesOf(t, v.(string))
			}
			perlCfg[bytesOf(t, key)] = v
		}
		ours := map[string]any{}
		for _, st := range c.want {
			if st.NoValue {
				ours[st.Key] = nil
			} else {
				ours[st.Key] = st.Value
			}
		}
		if !reflect.DeepEqual(perlCfg, ours) {
			t.Errorf("%s: Perl's str2cfg gives %q, the table %q", c.name, perlCfg, ours)
		}
	}
}

var cfg2strCases = []struct {
	cfg  Config
	want string
}{
	{cfgOf(kv("b", "2"), kv("a", "1")), "a=1&b=2"},
	{cfgOf(kv("a", "x y&z=%"), nv("k=&%"), kv("b", ""), kv("\xe9", "\x01\x7f\xff"), kv("c", "+=")),
		"a=x%20y%26z=%25&b=&c=+=&k%3D%26%25&%E9=%01%7F%FF"},
	{cfgOf(kv("nl", "a\nb")), "nl=a%0Ab"},
	{nil, ""},
}

func TestConfigString(t *testing.T) {
	for _, c := range cfg2strCases {
		if got := c.cfg.String(); got != c.want {
			t.Errorf("String() = %q, want %q", got, c.want)
		}
		back, err := ParseConfig(c.want)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range c.cfg {
			v, ok := back.Get(st.Key)
			if !back.Has(st.Key) || ok == st.NoValue || v != st.Value {
				t.Errorf("%q: %q did not survive: %q, %v", c.want, st.Key, v, ok)
			}
		}
	}
}

func TestConfigStringPerl(t *testing.T) {
	var queries []map[string]any
	for _, c := range cfg2strCases {
		m := map[string]any{}
		for _, st := range c.cfg {
			if st.NoValue {
				m[latin1(st.Key)] = nil
			} else {
				m[latin1(st.Key)] = latin1(st.Value)
			}
		}
		queries = append(queries, map[string]any{"op": "cfg2str", "cfg": m})
	}
	for k, a := range askPerl(t, queries) {
		if got := bytesOf(t, a["s"].(string)); got != cfg2strCases[k].want {
			t.Errorf("Perl's cfg2str gives %q, the table %q", got, cfg2strCases[k].want)
		}
	}
}

func TestConfigAccess(t *testing.T) {
	c, err := ParseConfig("max=10&flag&empty=&x=1")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := c.Get("max"); v != "10" || !ok {
		t.Errorf("Get(max) = %q, %v", v, ok)
	}
	if v, ok := c.Get("flag"); v != "" || ok || !c.Has("flag") {
		t.Errorf("Get(flag) = %q, %v", v, ok)
	}
	if v, ok := c.Get("empty"); v != "" || !ok {
		t.Errorf("Get(empty) = %q, %v", v, ok)
	}
	if _, ok := c.Get("none"); ok || c.Has("none") {
		t.Error("none is there")
	}
	if got := c.Keys(); !reflect.DeepEqual(got, []string{"max", "flag", "empty", "x"}) {
		t.Errorf("Keys = %q", got)
	}
	if err := c.CheckKeys("max", "flag", "empty", "x", "more"); err != nil {
		t.Error(err)
	}
	err = c.CheckKeys("max")
	var ce *ConfigError
	if !errors.As(err, &ce) || err.Error() != "imp: config: unexpected config keys flag, empty, x" || len(ce.Keys) != 3 {
		t.Errorf("CheckKeys = %v", err)
	}
}

func FuzzParseConfig(f *testing.F) {
	for _, c := range configCases {
		f.Add(c.in)
	}
	for _, c := range cfg2strCases {
		f.Add(c.want)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseConfig(s)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *ConfigError", err)
			}
			return
		}
		for _, st := range c {
			if st.Key == "" {
				return // Perl's "" key does not survive cfg2str
			}
		}
		back, err := ParseConfig(c.String())
		if err != nil {
			t.Fatalf("ParseConfig(%q) after String: %v", c.String(), err)
		}
		if len(back) != len(c) {
			t.Fatalf("%q -> %q: %d settings, had %d", s, c.String(), len(back), len(c))
		}
		for _, st := range c {
			v, ok := back.Get(st.Key)
			if ok == st.NoValue || v != st.Value {
				t.Fatalf("%q -> %q: %q changed", s, c.String(), st.Key)
			}
		}
	})
}
