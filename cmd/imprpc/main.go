// Command imprpc works with Perl's IMP RPC (Net::IMP::Remote) and the data
// formats it carries: it decodes and encodes Perl Storable and Sereal data,
// shows the frames of an IMP RPC byte stream, serves IMP plugins to Perl
// data providers, drives remote IMP servers, and checks servers for
// conformance.
//
// Usage:
//
//	imprpc <command> [flags] [arguments]
//
// Run "imprpc help" for the list of commands and "imprpc help <command>"
// (or "imprpc <command> --help") for one of them. Output meant for programs
// is written to stdout (JSON, one value per line); messages for people go to
// stderr. The exit status is 0 on success, 1 on failure and 2 for a usage
// error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// A command is one subcommand of imprpc.
type command struct {
	// Name is the word that selects the command.
	Name string
	// Args is the synopsis after the name, as shown in usage lines.
	Args string
	// Short is a one-line description for the command list.
	Short string
	// Long is the full help text, shown after the usage line and before
	// the flags.
	Long string
	// Flags declares the command's flags on fs; the returned function runs
	// the command with the remaining arguments once the flags are parsed.
	Flags func(fs *flag.FlagSet) func(ctx context.Context, env *env, args []string) error
}

// env is what a running command sees of the outside world.
type env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads the environment; tests replace it.
	Getenv func(string) string
}

// usageError reports a problem with the command line (exit status 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef returns a usage error with a formatted message.
func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// exitError ends a command with a given status and no further message: the
// command has already said what went wrong (for example a check that
// printed FAIL lines).
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

var commands = map[string]*command{}

// register adds a command; each command's file calls it from init.
func register(c *command) {
	if _, dup := commands[c.Name]; dup {
		panic("imprpc: command registered twice: " + c.Name)
	}
	commands[c.Name] = c
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv})
	stop()
	os.Exit(code)
}

// run runs the command line args (without the program name) and returns the
// exit status.
func run(ctx context.Context, args []string, e *env) int {
	if len(args) == 0 {
		printCommands(e.Stderr)
		return 2
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) == 0 {
			printCommands(e.Stdout)
			return 0
		}
		c, ok := commands[rest[0]]
		if !ok {
			fmt.Fprintf(e.Stderr, "imprpc help: unknown command %q; run \"imprpc help\" for the list\n", rest[0])
			return 2
		}
		fs, _ := newFlagSet(c, e.Stdout)
		fs.Usage()
		return 0
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(e.Stderr, "imprpc: unknown command %q; run \"imprpc help\" for the list\n", name)
		return 2
	}
	fs, runCmd := newFlagSet(c, e.Stderr)
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(e.Stdout)
			fs.Usage()
			return 0
		}
		return 2 // the flag package has printed the error and the usage
	}
	err := runCmd(ctx, e, fs.Args())
	var ue *usageError
	var xe *exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &xe):
		return xe.code
	case errors.As(err, &ue):
		fmt.Fprintf(e.Stderr, "imprpc %s: %s\n", c.Name, ue.msg)
		fmt.Fprintf(e.Stderr, "usage: imprpc %s %s\nrun \"imprpc help %s\" for details\n", c.Name, c.Args, c.Name)
		return 2
	default:
		fmt.Fprintf(e.Stderr, "imprpc %s: %s\n", c.Name, oneLine(err.Error()))
		return 1
	}
}

// newFlagSet makes the flag set of c, with its usage text written to out.
func newFlagSet(c *command, out io.Writer) (*flag.FlagSet, func(context.Context, *env, []string) error) {
	fs := flag.NewFlagSet("imprpc "+c.Name, flag.ContinueOnError)
	fs.SetOutput(out)
	runCmd := c.Flags(fs)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: imprpc %s %s\n\n%s\n", c.Name, c.Args, strings.TrimSpace(c.Long))
		if hasFlags(fs) {
			fmt.Fprintf(w, "\nflags:\n")
			printFlags(w, fs)
		}
	}
	return fs, runCmd
}

func printCommands(w io.Writer) {
	fmt.Fprintf(w, "imprpc works with Perl's IMP RPC (Net::IMP::Remote) and its data formats.\n\nusage: imprpc <command> [flags] [arguments]\n\ncommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].Short)
	}
	fmt.Fprintf(w, "\nrun \"imprpc help <command>\" for more about a command.\n")
}

func hasFlags(fs *flag.FlagSet) bool {
	any := false
	fs.VisitAll(func(*flag.Flag) { any = true })
	return any
}

// printFlags lists the flags, showing a flag's aliases (same value) on one
// line: "-M, --module NAME[=CONFIG]".
func printFlags(w io.Writer, fs *flag.FlagSet) {
	type entry struct {
		names []string
		f     *flag.Flag
	}
	var entries []*entry
	byValue := map[flag.Value]*entry{}
	fs.VisitAll(func(f *flag.Flag) {
		if e, ok := byValue[f.Value]; ok {
			e.names = append(e.names, f.Name)
			return
		}
		e := &entry{names: []string{f.Name}, f: f}
		byValue[f.Value] = e
		entries = append(entries, e)
	})
	for _, e := range entries {
		sort.Slice(e.names, func(i, j int) bool { return len(e.names[i]) < len(e.names[j]) })
		parts := make([]string, len(e.names))
		for i, n := range e.names {
			if len(n) == 1 {
				parts[i] = "-" + n
			} else {
				parts[i] = "--" + n
			}
		}
		arg, usage := flag.UnquoteUsage(e.f)
		head := strings.Join(parts, ", ")
		if arg != "" {
			head += " " + arg
		}
		if d := e.f.DefValue; d != "" && d != "false" && d != "0" && d != "[]" {
			usage += fmt.Sprintf(" (default %s)", d)
		}
		fmt.Fprintf(w, "  %s\n    \t%s\n", head, strings.ReplaceAll(usage, "\n", "\n    \t"))
	}
}

// oneLine keeps an error message on one line, as the command line promises.
func oneLine(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\n", "; "))
}
