package cascade

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/plugin/internal/recording"
)

// apply runs a case's steps with their results through a filter.
func apply(c recording.Case, results func(step int) []imp.Result) *recording.Filter {
	f := new(recording.Filter)
	for i, s := range c.Steps {
		f.Data(imp.Dir(s.Dir), s.Data())
		for _, r := range results(i) {
			f.Result(r)
		}
	}
	return f
}

// oracleData is what the data provider should see of a direction.
type oracleData struct {
	data []byte // the data, or with deny what it is cut from
	deny bool   // a deny part matches: a deny, and a prefix of data
}

// oracle returns what a chain of Pattern parts that replace (or reject:
// replace by nothing, or deny) makes of the data of dir, applying each
// part to the whole data (each packet on its own) one after another, in
// the order the direction goes through them; EveryResult parts that only
// pass change nothing. It returns false when the case is not such a
// chain.
func oracle(c recording.Case, dir imp.Dir) (oracleData, bool) {
	type step struct {
		re   *regexp.Regexp
		with []byte
		deny bool // a deny part: a match means deny, the data is not changed
	}
	var steps []step
	for _, p := range c.Factory.Cascade {
		cfg, err := imp.ParseConfig(p.Config)
		if err != nil {
			return oracleData{}, false
		}
		if p.Plugin == "ImpFixture::Plugin::EveryResult" && p.Config == "results=pass" {
			continue
		}
		if p.Plugin != "Net::IMP::Pattern" {
			return oracleData{}, false
		}
		var s step
		if str, ok := cfg.Get("string"); ok {
			s.re = regexp.MustCompile(regexp.QuoteMeta(str))
		} else if rx, ok := cfg.Get("rx"); ok {
			s.re = regexp.MustCompile(rx)
		}
		switch act, _ := cfg.Get("action"); act {
		case "replace":
			d, _ := cfg.Get("actdata")
			s.with = []byte(d)
		case "reject":
			s.with = []byte{}
		case "deny":
			s.deny = true
		default:
			return oracleData{}, false
		}
		if d, ok := cfg.Get("rxdir"); ok && d != string(rune('0'+dir)) {
			continue
		}
		steps = append(steps, s)
	}
	if dir == imp.FromServer {
		slices.Reverse(steps)
	}
	// the pieces matched on their own: each packet, and each run of
	// stream data of one type
	var pieces [][]byte
	var last int64
	for _, st := range c.Steps {
		if imp.Dir(st.Dir) != dir || len(st.Data()) == 0 {
			continue
		}
		if st.Type > 0 || st.Type != last || len(pieces) == 0 {
			pieces = append(pieces, nil)
		}
		pieces[len(pieces)-1] = append(pieces[len(pieces)-1], st.Data()...)
		last = st.Type
	}
	var o oracleData
	for _, p := range pieces {
		for _, s := range steps {
			if s.deny {
				o.deny = o.deny || s.re.Match(p)
				continue
			}
			p = s.re.ReplaceAllLiteral(p, s.with)
		}
		o.data = append(o.data, p...)
	}
	return o, true
}

// matches reports whether the filter forwarded exactly the oracle's
// data in both directions, and all of it; if not, it says how not.
func matches(f *recording.Filter, c recording.Case) (bool, string) {
	var why []string
	for _, dir := range []imp.Dir{imp.FromClient, imp.FromServer} {
		want, _ := oracle(c, dir)
		if want.deny {
			if !f.Stopped || !bytes.HasPrefix(want.data, f.Out[dir]) {
				why = append(why, fmt.Sprintf("dir %d: %q (stopped: %v) instead of a deny after a prefix of %q", dir, f.Out[dir], f.Stopped, want.data))
			}
			continue
		}
		if !bytes.Equal(f.Out[dir], want.data) {
			why = append(why, fmt.Sprintf("dir %d: %q instead of %q", dir, f.Out[dir], want.data))
		} else if n := f.Unpassed(dir); n != 0 && !f.Stopped {
			why = append(why, fmt.Sprintf("dir %d: %d bytes never passed", dir, n))
		}
	}
	return len(why) == 0, strings.Join(why, "; ")
}
