package imp

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Plugin describes a plugin that can be named on the command line
// (imprpc serve -M NAME[=CONFIG]) once registered.
type Plugin struct {
	// Name is the plugin's name ("pattern"): a letter followed by
	// letters, digits, "_" and ":".
	Name string
	// Aliases are other names for it, such as the Perl class it stands
	// in for ("Net::IMP::Pattern"), so that an imprpc_server.pl command
	// line works as it is.
	Aliases []string
	// Doc describes the plugin for help texts: a one-line summary, then
	// the configuration keys.
	Doc string
	// New validates cfg and returns a factory configured by it. As
	// Net::IMP's validate_cfg, it reports every problem of cfg at once
	// (errors.Join them), including keys it does not know
	// (Config.CheckKeys). It must not start anything (goroutines,
	// connections, files that need closing): Open calls it for every
	// plugin of a command line before any is used, and drops all of them
	// if one fails.
	New func(cfg Config) (Factory, error)
}

// A Registry maps plugin names to plugins. The zero value is an empty
// registry ready to use; it is safe for concurrent use. Most programs use
// DefaultRegistry through the package functions Register, Lookup,
// Plugins and Open.
type Registry struct {
	mu      sync.RWMutex
	plugins map[string]*Plugin // by name and alias
}

// DefaultRegistry is the registry of Register, Lookup, Plugins and Open,
// to which plugin packages add themselves in init functions.
var DefaultRegistry = new(Registry)

// validName is what imprpc_server.pl accepts as a module name.
var validName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_:]*$`)

// Register adds p under its name and aliases. It panics if p has no New,
// if a name is not valid, or if a name is already taken, as
// database/sql.Register does: registration happens in init functions,
// where such a mistake is a programming error.
func (r *Registry) Register(p Plugin) {
	if p.New == nil {
		panic("imp: Register: plugin " + p.Name + " has no New")
	}
	p.Aliases = slices.Clone(p.Aliases)
	names := append([]string{p.Name}, p.Aliases...)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.plugins == nil {
		r.plugins = make(map[string]*Plugin)
	}
	for i, n := range names {
		if !validName.MatchString(n) {
			panic(fmt.Sprintf("imp: Register: invalid plugin name %q", n))
		}
		if _, dup := r.plugins[n]; dup || slices.Contains(names[:i], n) {
			panic(fmt.Sprintf("imp: Register: plugin name %q registered twice", n))
		}
	}
	for _, n := range names {
		r.plugins[n] = &p
	}
}

// Lookup returns the plugin registered under name (a name or an alias).
func (r *Registry) Lookup(name string) (Plugin, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if p, ok := r.plugins[name]; ok {
		return *p, true
	}
	return Plugin{}, false
}

// Plugins returns the registered plugins sorted by name, each once.
func (r *Registry) Plugins() []Plugin {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var ps []Plugin
	for n, p := range r.plugins {
		if n == p.Name {
			ps = append(ps, *p)
		}
	}
	slices.SortFunc(ps, func(a, b Plugin) int { return strings.Compare(a.Name, b.Name) })
	return ps
}

// Open makes a factory for each plugin spec of a command line
// (NAME[=CONFIG], see ParseSpec), in order. It checks all of them before
// it returns: if any spec is malformed, names no registered plugin, or
// has a configuration its plugin rejects, Open returns no factory and an
// error that lists every problem, one *PluginError per spec at fault
// (joined with errors.Join; use errors.As to inspect them).
func (r *Registry) Open(specs ...string) ([]Factory, error) {
	var factories []Factory
	var errs []error
	for _, s := range specs {
		f, err := r.open(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		factories = append(factories, f)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return factories, nil
}

func (r *Registry) open(s string) (Factory, error) {
	sp, err := ParseSpec(s)
	if err != nil {
		return nil, &PluginError{Spec: s, Name: sp.Name, Err: err}
	}
	p, ok := r.Lookup(sp.Name)
	if !ok {
		known := make([]string, 0)
		for _, p := range r.Plugins() {
			known = append(known, p.Name)
		}
		return nil, &PluginError{Spec: s, Name: sp.Name,
			Err: fmt.Errorf("%w (known: %s)", ErrUnknownPlugin, strings.Join(known, ", "))}
	}
	f, err := p.New(sp.Config)
	if err != nil {
		return nil, &PluginError{Spec: s, Name: sp.Name, Err: err}
	}
	if f == nil {
		return nil, &PluginError{Spec: s, Name: sp.Name, Err: errors.New("plugin made no factory")}
	}
	return f, nil
}

// ErrUnknownPlugin is wrapped by the *PluginError of Open for a name no
// plugin is registered under.
var ErrUnknownPlugin = errors.New("imp: unknown plugin")

// Register adds p to DefaultRegistry (see Registry.Register).
func Register(p Plugin) { DefaultRegistry.Register(p) }

// Lookup finds a plugin in DefaultRegistry (see Registry.Lookup).
func Lookup(name string) (Plugin, bool) { return DefaultRegistry.Lookup(name) }

// Plugins lists DefaultRegistry's plugins (see Registry.Plugins).
func Plugins() []Plugin { return DefaultRegistry.Plugins() }

// Open makes factories from plugin specs with DefaultRegistry (see
// Registry.Open).
func Open(specs ...string) ([]Factory, error) { return DefaultRegistry.Open(specs...) }

// Spec is a plugin named on a command line with its configuration.
type Spec struct {
	// Name is the plugin's name or alias.
	Name string
	// Config is its configuration; empty when none was given.
	Config Config
}

// ParseSpec parses NAME[=CONFIG] as imprpc_server.pl parses -M: NAME is a
// letter followed by letters, digits, "_" and ":"; CONFIG, everything
// after the first "=", is parsed by ParseConfig. As in Perl, a spec may
// end in one newline, and holds no other.
func ParseSpec(s string) (Spec, error) {
	t := strings.TrimSuffix(s, "\n")
	name, cfg, _ := strings.Cut(t, "=")
	if !validName.MatchString(name) || strings.Contains(cfg, "\n") {
		return Spec{}, &SpecError{Spec: s}
	}
	c, err := ParseConfig(cfg)
	if err != nil {
		return Spec{Name: name}, err
	}
	return Spec{Name: name, Config: c}, nil
}

// String returns the spec as NAME or NAME=CONFIG (Config.String).
func (s Spec) String() string {
	if len(s.Config) == 0 {
		return s.Name
	}
	return s.Name + "=" + s.Config.String()
}

// SpecError reports a plugin spec that is not NAME[=CONFIG].
type SpecError struct {
	// Spec is the text given.
	Spec string
}

// Error names the spec and says what a spec looks like.
func (e *SpecError) Error() string {
	return fmt.Sprintf("imp: invalid plugin spec %q: want NAME[=CONFIG], NAME a letter followed by letters, digits, _ and :", e.Spec)
}

// PluginError reports what is wrong with one plugin spec of Open.
type PluginError struct {
	// Spec is the spec as given.
	Spec string
	// Name is the plugin name from it, "" when it has none.
	Name string
	// Err is the problem: a *SpecError, a *ConfigError, an error
	// wrapping ErrUnknownPlugin, or what the plugin's New returned (it
	// may join several).
	Err error
}

// Error writes one line per problem, each naming the plugin.
func (e *PluginError) Error() string {
	label := "imp: plugin " + e.Name + ": "
	if e.Name == "" {
		label = "imp: " // the *SpecError quotes the spec
	}
	var lines []string
	for _, leaf := range leaves(e.Err) {
		lines = append(lines, label+strings.TrimPrefix(leaf.Error(), "imp: "))
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns Err.
func (e *PluginError) Unwrap() error { return e.Err }

// leaves flattens errors joined with errors.Join.
func leaves(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leaves(e)...)
		}
		return out
	}
	return []error{err}
}
