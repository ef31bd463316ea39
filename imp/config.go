package imp

import (
	"slices"
	"strings"
)

// Setting is one key of a plugin configuration.
type Setting struct {
	// Key is the key, %XX escapes decoded.
	Key string
	// Value is the value, %XX escapes decoded.
	Value string
	// NoValue marks a key given without "=" (Perl's undef value), as
	// opposed to "key=" (an empty value).
	NoValue bool
}

// Config is a plugin configuration in the order given: what Net::IMP's
// str2cfg makes of "key=value&key=value" (ParseConfig), and what cfg2str
// makes of it again (String).
type Config []Setting

// ParseConfig parses a plugin configuration as Net::IMP::Base's str2cfg
// does, which is also what imprpc_server.pl applies to -M NAME=CONFIG:
//
//   - the string is split at "&"; empty pieces at the end are dropped;
//   - each piece is key=value (the value may hold more "="), or a key
//     without "=" whose value is undef (NoValue);
//   - only %XX (two hex digits, either case) is decoded, in keys and
//     values; "+" stays "+", and any other "%" is kept;
//   - a key given twice (after decoding) is an error.
//
// Perl's quirks are kept: an empty piece ("a=1&&b=2") or one that starts
// with "=" gives the key "" without value (so the value of "=v" is lost),
// and a value ends at a raw newline. Keys are kept in the order given.
func ParseConfig(s string) (Config, error) {
	pieces := strings.Split(s, "&")
	for len(pieces) > 0 && pieces[len(pieces)-1] == "" {
		pieces = pieces[:len(pieces)-1]
	}
	var c Config
	for _, p := range pieces {
		var st Setting
		k, v, hasValue := strings.Cut(p, "=")
		if k == "" {
			st.NoValue = true
		} else {
			st.Key = percentDecode(k)
			if hasValue {
				v, _, _ = strings.Cut(v, "\n")
				st.Value = percentDecode(v)
			} else {
				st.NoValue = true
			}
		}
		if c.Has(st.Key) {
			return nil, &ConfigError{Keys: []string{st.Key}, Msg: "duplicate definition for key " + st.Key}
		}
		c = append(c, st)
	}
	return c, nil
}

// percentDecode decodes %XX escapes and keeps everything else.
func percentDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// String returns the configuration as Net::IMP::Base's cfg2str writes
// it: keys sorted, "key=value" joined with "&", a key without value
// alone; in keys "=", "&", "%", control characters, space and bytes
// 0x7f..0xff are written as %XX, in values the same except "=".
func (c Config) String() string {
	sorted := slices.Clone(c)
	slices.SortStableFunc(sorted, func(a, b Setting) int { return strings.Compare(a.Key, b.Key) })
	var b strings.Builder
	for i, st := range sorted {
		if i > 0 {
			b.WriteByte('&')
		}
		percentEncode(&b, st.Key, true)
		if !st.NoValue {
			b.WriteByte('=')
			percentEncode(&b, st.Value, false)
		}
	}
	return b.String()
}

func percentEncode(b *strings.Builder, s string, isKey bool) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c >= 0x7f || c == '&' || c == '%' || (isKey && c == '=') {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
}

// Get returns the value of key and whether it has one: false when the key
// is missing or was given without "=".
func (c Config) Get(key string) (string, bool) {
	for _, st := range c {
		if st.Key == key {
			return st.Value, !st.NoValue
		}
	}
	return "", false
}

// Has reports whether key is given, with or without a value.
func (c Config) Has(key string) bool {
	return slices.ContainsFunc(c, func(st Setting) bool { return st.Key == key })
}

// Keys returns the keys in the order given.
func (c Config) Keys() []string {
	keys := make([]string, len(c))
	for i, st := range c {
		keys[i] = st.Key
	}
	return keys
}

// CheckKeys returns a *ConfigError naming every key of c that is not in
// known, as Net::IMP::Base's validate_cfg reports the keys a plugin did
// not take ("unexpected config keys a, b"), or nil.
func (c Config) CheckKeys(known ...string) error {
	var extra []string
	for _, st := range c {
		if !slices.Contains(known, st.Key) {
			extra = append(extra, st.Key)
		}
	}
	if len(extra) == 0 {
		return nil
	}
	return &ConfigError{Keys: extra, Msg: "unexpected config keys " + strings.Join(extra, ", ")}
}

// ConfigError reports keys of a plugin configuration that are given
// twice or not expected.
type ConfigError struct {
	// Keys are the keys at fault.
	Keys []string
	// Msg says what is wrong, naming the keys.
	Msg string
}

// Error returns "imp: config: " and Msg.
func (e *ConfigError) Error() string { return "imp: config: " + e.Msg }
