// Package pattern is the IMP plugin "pattern", the Go form of Perl's
// Net::IMP::Pattern: it looks for a regular expression or a fixed string
// in the data of a connection and denies the connection, rejects the
// matching data (replaces it with nothing and sends a reply back to the
// sender), or replaces the matching data.
//
// It is registered as "pattern" and as "Net::IMP::Pattern", so that an
// imprpc_server.pl command line works as it is:
//
//	imprpc serve -M 'Net::IMP::Pattern=string=secret&action=deny&actdata=found+secret'
//	imprpc serve -M 'pattern=rx=ba[rz]&rxlen=3&action=replace&actdata=XXX'
//
// # Configuration
//
// The keys are Net::IMP::Pattern's:
//
//	rx=REGEX      a Perl regular expression, with rxlen
//	rxlen=N       the longest match rx may have, in bytes (> 0)
//	string=TEXT   a fixed string instead of rx and rxlen
//	rxdir=0|1     look only at this direction; the other is passed at once
//	action=ACTION deny, reject or replace
//	actdata=TEXT  deny: the reason; reject: what to send back to the
//	              sender (nothing if empty); replace: the replacement
//
// As in Perl, actdata must be given even for deny (it may be empty:
// "actdata="), rx "0" counts as not given, and every problem of a
// configuration is reported at once. Values are byte strings: "é" on a
// command line in UTF-8 is two bytes, in the pattern as in actdata.
//
// # Results
//
// For the same chunks of data the plugin gives the same results as the
// Perl plugin, in the same order, including Net::IMP::Pattern's quirks
// (docs/conformance.md lists them with the tests that show them):
// matching goes on after a deny; a match longer than rxlen is matched
// again within its first rxlen bytes; at the end of a stream, a buffer of
// rxlen bytes or more is passed only up to len-rxlen+1 instead of
// pass(dir, -1); packet data ends with pass(dir, offset); reject gives
// [tosender, replace] for a packet and [pass, replace, tosender] in a
// stream; rxdir passes the other direction to the end when the analyzer
// is made; changing the data type within a direction passes what is
// buffered and may lose a short chunk from the buffer.
//
// Where Perl fails, this plugin does better: an offset that leaves a gap
// gives fatal("cannot deal with gaps in data") instead of a silent die,
// and configurations with which Perl loops forever (an empty string, a
// regex that can match an empty string somewhere, such as \b) or
// misbehaves (rxdir other than 0 or 1) are refused.
//
// # Regular expressions
//
// rx is Perl syntax, matched against bytes as Perl matches a byte string,
// and accepted where Go's regexp gives it the same meaning: see
// docs/conformance.md for what is refused (backreferences, lookaround,
// atomic groups and possessive quantifiers, $ and \Z without /m, ...)
// and why. Go's leftmost-first matching finds the same match as Perl's
// backtracking for every pattern that is accepted.
package pattern

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/plugin/internal/perlre"
)

func init() {
	imp.Register(imp.Plugin{
		Name:    "pattern",
		Aliases: []string{"Net::IMP::Pattern"},
		Doc: `react to a regular expression or a string in the data (Net::IMP::Pattern)
rx=REGEX&rxlen=N  a Perl regular expression and its longest match in bytes
string=TEXT       a fixed string instead of rx and rxlen
rxdir=0|1         inspect only this direction, pass the other
action=ACTION     deny, reject or replace
actdata=TEXT      the deny reason, the reply of reject, or the replacement (required)`,
		New: func(cfg imp.Config) (imp.Factory, error) {
			c, err := ParseConfig(cfg)
			if err != nil {
				return nil, err
			}
			return New(c)
		},
	})
}

// Action is what the plugin does with a match.
type Action string

// The actions of Net::IMP::Pattern.
const (
	// Deny closes the connection: deny(dir, actdata).
	Deny Action = "deny"
	// Reject replaces the matching data with nothing and sends actdata
	// back to the sender (unless it is empty).
	Reject Action = "reject"
	// Replace replaces the matching data with actdata.
	Replace Action = "replace"
)

// Config configures the plugin. Exactly one of Rx and String is used.
// The zero value is not a valid configuration.
type Config struct {
	// Rx is a Perl regular expression (key rx).
	Rx string
	// RxLen is the longest match Rx may have, in bytes (key rxlen); a
	// longer match is matched again within its first RxLen bytes.
	RxLen int
	// String is a fixed string to look for instead of Rx (key string).
	String string
	// OneDir limits the inspection to direction Dir (key rxdir); the
	// other direction is passed to the end when an analyzer is made.
	OneDir bool
	// Dir is the direction inspected when OneDir is set.
	Dir imp.Dir
	// Action is what to do with a match (key action).
	Action Action
	// ActData is the reason of a deny, the reply of a reject, or the
	// replacement (key actdata), as bytes.
	ActData string
}

// ConfigError reports a problem of a configuration. New and ParseConfig
// return one per problem, joined with errors.Join.
type ConfigError struct {
	// Key is the configuration key at fault ("rxlen"), "" when the
	// problem is the combination of keys.
	Key string
	// Msg says what is wrong; where Perl's Net::IMP::Pattern reports the
	// same problem, in its words.
	Msg string
}

// Error returns "pattern: " and Msg.
func (e *ConfigError) Error() string { return "pattern: " + e.Msg }

// ParseConfig reads a configuration given as Net::IMP's key=value pairs
// (see the package documentation), checking it as Net::IMP::Pattern's
// validate_cfg does, with the checks of New, and reporting every problem.
func ParseConfig(cfg imp.Config) (Config, error) {
	var c Config
	var errs []error
	bad := func(key, msg string) { errs = append(errs, &ConfigError{Key: key, Msg: msg}) }
	known := []string{"rx", "string", "rxdir", "action", "actdata", "eventlib"}

	if rx, _ := cfg.Get("rx"); rx != "" && rx != "0" { // Perl tests rx for truth
		c.Rx = rx
		known = append(known, "rxlen")
		v, _ := cfg.Get("rxlen")
		n, err := strconv.ParseUint(v, 10, 63)
		if ne, isNum := err.(*strconv.NumError); isNum && ne.Err == strconv.ErrRange {
			n, err = math.MaxInt32, nil // Perl takes any length: larger than any buffer
		}
		if err == nil {
			c.RxLen = int(n) // 0 is reported by check
		}
	}
	s, hasString := cfg.Get("string")
	c.String = s
	if v, ok := cfg.Get("rxdir"); ok {
		if v == "0" || v == "1" {
			c.OneDir, c.Dir = true, imp.Dir(v[0]-'0')
		} else {
			bad("rxdir", "rxdir must be 0|1")
		}
	}
	act, _ := cfg.Get("action")
	c.Action = Action(act)
	if v, ok := cfg.Get("actdata"); ok {
		c.ActData = v
	} else {
		bad("actdata", "action "+act+" needs actdata")
	}
	_, _, errs2 := c.check(hasString && s == "")
	errs = append(errs, errs2...)
	errs = append(errs, cfg.CheckKeys(known...))
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return c, nil
}

func (a Action) valid() bool { return a == Deny || a == Reject || a == Replace }

// check returns the matcher for c and its maximum match length, or every
// problem of c. emptyString says that string was given as "".
func (c Config) check(emptyString bool) (m matcher, rxlen int, errs []error) {
	bad := func(key, msg string) { errs = append(errs, &ConfigError{Key: key, Msg: msg}) }
	if c.Rx != "" {
		if c.RxLen <= 0 {
			bad("rxlen", "rxlen must be given and >0")
		}
		if re, err := c.compile(); err != nil {
			errs = append(errs, err)
		} else {
			m, rxlen = re, c.RxLen
		}
	}
	switch {
	case c.Rx != "" && (c.String != "" || emptyString):
		bad("", "only rx or string should be given, not both")
	case c.Rx != "":
	case c.String != "":
		m, rxlen = literalMatcher(c.String), len(c.String)
	case emptyString:
		bad("string", "string must not be empty (Perl loops forever on it)")
	default:
		bad("", "rx+rxlen or string need to be given for pattern")
	}
	if c.OneDir && !c.Dir.Valid() {
		bad("rxdir", "rxdir must be 0|1")
	}
	if !c.Action.valid() {
		bad("action", "action can only be deny|reject|replace")
	}
	return m, rxlen, errs
}

// compile returns the matcher for Rx, or the problem with Rx.
func (c Config) compile() (matcher, error) {
	re, err := perlre.Compile(c.Rx)
	if err != nil {
		var pe *perlre.Error
		if !errors.As(err, &pe) {
			return nil, &ConfigError{Key: "rx", Msg: fmt.Sprintf("rx %q: %v", c.Rx, err)}
		}
		if pe.Offset < 0 {
			return nil, &ConfigError{Key: "rx", Msg: fmt.Sprintf("rx %q: %s", c.Rx, pe.Msg)}
		}
		return nil, &ConfigError{Key: "rx", Msg: fmt.Sprintf("rx %q: offset %d: %s", c.Rx, pe.Offset, pe.Msg)}
	}
	switch {
	case re.MatchesEmpty():
		return nil, &ConfigError{Key: "rx", Msg: "rx should not match empty string"}
	case re.MinLen() == 0:
		return nil, &ConfigError{Key: "rx", Msg: "rx should not match an empty string anywhere (Perl loops forever on such a match, e.g. at \\b)"}
	}
	return regexMatcher{re}, nil
}

// New returns the factory for c, or every problem of c.
func New(c Config) (imp.Factory, error) {
	m, rxlen, errs := c.check(false)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	f := &factory{cfg: c, m: m, rxlen: rxlen, actData: perl.Bytes(c.ActData)}
	results := []imp.ResultType{imp.ResultPass, imp.ResultDeny}
	switch c.Action {
	case Reject:
		results = []imp.ResultType{imp.ResultPass, imp.ResultReplace, imp.ResultToSender}
	case Replace:
		results = []imp.ResultType{imp.ResultPass, imp.ResultReplace}
	}
	f.ifs = []imp.Interface{{AnyData: true, Results: results}}
	return f, nil
}

// matcher finds matches in a buffer.
type matcher interface {
	// find returns the leftmost match.
	find(b []byte) (start, end int, ok bool)
	// prefix returns the end of the match at the start of b.
	prefix(b []byte) (end int, ok bool)
}

type regexMatcher struct{ re *perlre.Regexp }

func (m regexMatcher) find(b []byte) (int, int, bool) { return m.re.FindIndex(b) }
func (m regexMatcher) prefix(b []byte) (int, bool)    { return m.re.MatchPrefix(b) }

// literalMatcher is Perl's qr/\Q$string/: the bytes of the string.
type literalMatcher string

func (m literalMatcher) find(b []byte) (int, int, bool) {
	i := bytes.Index(b, []byte(m))
	return i, i + len(m), i >= 0
}

func (m literalMatcher) prefix(b []byte) (int, bool) {
	return len(m), bytes.HasPrefix(b, []byte(m))
}

// factory is the configured plugin; read-only after New.
type factory struct {
	cfg     Config
	m       matcher
	rxlen   int
	actData perl.Value
	ifs     []imp.Interface
}

// Interfaces: any data type; pass and the results of the action
// (Net::IMP::Pattern's INTERFACE).
func (f *factory) Interfaces() []imp.Interface { return f.ifs }

// NewAnalyzer makes the analyzer of one connection. With rxdir, the other
// direction is passed to the end at once.
func (f *factory) NewAnalyzer(_ context.Context, _ *imp.Meta, out imp.Sink) (imp.Analyzer, error) {
	if f.cfg.OneDir {
		out.Emit(imp.Pass(f.cfg.Dir.Other(), imp.MaxOffset))
	}
	return &analyzer{f: f, out: out}, nil
}
