package imp

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// testPlugin makes a plugin whose New accepts the keys given and records
// the configuration it got.
func testPlugin(name string, aliases []string, got *Config, known ...string) Plugin {
	return Plugin{Name: name, Aliases: aliases, Doc: name + " for tests", New: func(cfg Config) (Factory, error) {
		var errs []error
		if v, ok := cfg.Get("fail"); ok {
			for _, msg := range strings.Split(v, ",") {
				errs = append(errs, errors.New(msg))
			}
		}
		if err := errors.Join(append(errs, cfg.CheckKeys(append(known, "fail")...))...); err != nil {
			return nil, err
		}
		if got != nil {
			*got = cfg
		}
		return NewFactory(nil, func(context.Context, *Meta, Sink) (Analyzer, error) { return nil, nil }), nil
	}}
}

func TestRegistry(t *testing.T) {
	var r Registry
	var got Config
	r.Register(testPlugin("pattern", []string{"Net::IMP::Pattern"}, &got, "string", "action"))
	r.Register(testPlugin("cascade", nil, nil))

	p, ok := r.Lookup("Net::IMP::Pattern")
	if !ok || p.Name != "pattern" || !reflect.DeepEqual(p.Aliases, []string{"Net::IMP::Pattern"}) {
		t.Errorf("Lookup by alias: %+v, %v", p, ok)
	}
	if _, ok := r.Lookup("net::imp::pattern"); ok {
		t.Error("names are case-sensitive, as Perl's require")
	}
	var names []string
	for _, p := range r.Plugins() {
		names = append(names, p.Name)
	}
	if !reflect.DeepEqual(names, []string{"cascade", "pattern"}) {
		t.Errorf("Plugins = %v", names)
	}

	fs, err := r.Open("Net::IMP::Pattern=string=se%63ret&action=deny", "cascade")
	if err != nil || len(fs) != 2 {
		t.Fatalf("Open = %v, %v", fs, err)
	}
	if !reflect.DeepEqual(got, Config{{Key: "string", Value: "secret"}, {Key: "action", Value: "deny"}}) {
		t.Errorf("New got %#v", got)
	}
	if fs, err := r.Open(); fs != nil || err != nil {
		t.Errorf("Open() = %v, %v", fs, err)
	}

	_, err = r.Open("pattern=fail=one,two&color=red", "cascade", "nosuch=x", "9=x", "pattern=a=1&a=2", "cascade=")
	want := strings.Join([]string{
		"imp: plugin pattern: one",
		"imp: plugin pattern: two",
		"imp: plugin pattern: config: unexpected config keys color",
		"imp: plugin nosuch: unknown plugin (known: cascade, pattern)",
		`imp: invalid plugin spec "9=x": want NAME[=CONFIG], NAME a letter followed by letters, digits, _ and :`,
		"imp: plugin pattern: config: duplicate definition for key a",
	}, "\n")
	if err == nil || err.Error() != want {
		t.Fatalf("Open errors:\n%v\nwant:\n%s", err, want)
	}
	if !errors.Is(err, ErrUnknownPlugin) {
		t.Error("no ErrUnknownPlugin in the error")
	}
	var pe *PluginError
	var se *SpecError
	var ce *ConfigError
	if !errors.As(err, &pe) || pe.Name != "pattern" || pe.Spec != "pattern=fail=one,two&color=red" ||
		!errors.As(err, &se) || se.Spec != "9=x" || !errors.As(err, &ce) {
		t.Errorf("error types: %#v %#v %#v", pe, se, ce)
	}
}

func TestRegisterPanics(t *testing.T) {
	for _, c := range []struct {
		p    Plugin
		want string
	}{
		{Plugin{Name: "x"}, "imp: Register: plugin x has no New"},
		{testPlugin("9x", nil, nil), `imp: Register: invalid plugin name "9x"`},
		{testPlugin("x", []string{"bad name"}, nil), `imp: Register: invalid plugin name "bad name"`},
		{testPlugin("taken", nil, nil), `imp: Register: plugin name "taken" registered twice`},
		{testPlugin("new", []string{"Alias::Taken"}, nil), `imp: Register: plugin name "Alias::Taken" registered twice`},
		{testPlugin("self", []string{"self"}, nil), `imp: Register: plugin name "self" registered twice`},
	} {
		var r Registry
		r.Register(testPlugin("taken", []string{"Alias::Taken"}, nil))
		func() {
			defer func() {
				if got := fmt.Sprint(recover()); got != c.want {
					t.Errorf("panic %q, want %q", got, c.want)
				}
			}()
			r.Register(c.p)
		}()
		if _, ok := r.Lookup("new"); ok {
			t.Error("a failed Register left a name behind")
		}
	}
}

func TestRegistryConcurrent(t *testing.T) {
	var r Registry
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			r.Register(testPlugin(fmt.Sprintf("p%d", i), nil, nil))
		}()
		go func() {
			defer wg.Done()
			_, _ = r.Open("p0")
			_ = r.Plugins()
		}()
	}
	wg.Wait()
	if n := len(r.Plugins()); n != 8 {
		t.Errorf("%d plugins", n)
	}
}

func TestSpec(t *testing.T) {
	for _, c := range []struct {
		in, name, str string
		bad           bool
	}{
		{in: "pattern", name: "pattern", str: "pattern"},
		{in: "pattern=", name: "pattern", str: "pattern"},
		{in: "Net::IMP::Pattern=string=x&action=deny", name: "Net::IMP::Pattern", str: "Net::IMP::Pattern=action=deny&string=x"},
		{in: "p_1=a=b=c\n", name: "p_1", str: "p_1=a=b=c"},
		{in: "p=a\nb", bad: true},
		{in: "=x", bad: true},
		{in: "", bad: true},
		{in: "_p", bad: true},
		{in: "p-q", bad: true},
	} {
		s, err := ParseSpec(c.in)
		if c.bad {
			var se *SpecError
			if !errors.As(err, &se) {
				t.Errorf("ParseSpec(%q) = %v, %v; want a *SpecError", c.in, s, err)
			}
			continue
		}
		if err != nil || s.Name != c.name || s.String() != c.str {
			t.Errorf("ParseSpec(%q) = %+v (%s), %v", c.in, s, s, err)
		}
	}
}

func TestFactoryNil(t *testing.T) {
	var r Registry
	r.Register(Plugin{Name: "nothing", New: func(Config) (Factory, error) { return nil, nil }})
	if _, err := r.Open("nothing"); err == nil || err.Error() != "imp: plugin nothing: plugin made no factory" {
		t.Errorf("Open = %v", err)
	}
}
