// Command sentinelctl administers Audit Sentinel (migrations, API keys,
// seeding) and is its command-line client (exports, archives, verification).
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

// command is one sub-command.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what commands share: streams and the environment, injectable for
// tests.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

var commands = map[string]command{}

func register(c command) { commands[c.name] = c }

// errUsage marks a usage error (exit status 2); the command printed help.
var errUsage = errors.New("usage")

func usage(w io.Writer) {
	fmt.Fprint(w, `sentinelctl — administer Audit Sentinel and fetch its exports

Usage: sentinelctl COMMAND [flags]

Commands:
`)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-16s %s\n", n, commands[n].summary)
	}
	fmt.Fprint(w, `
Run 'sentinelctl COMMAND -h' for a command's flags. Admin commands read
DATABASE_URL (default sqlite:./data/audit.db); client commands read
SENTINEL_URL and SENTINEL_API_KEY.
`)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code) // last, so every deferred cleanup in run has happened
}

func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	name := args[0]
	rest := args[1:]
	// Two-word commands: "keys create", "exports list".
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		if c, ok := commands[name+" "+rest[0]]; ok {
			return finish(e, c.name, c.run(ctx, e, rest[1:]))
		}
	}
	c, ok := commands[name]
	if !ok && isGroup(name) {
		// "keys", "keys -h", "keys bogus": the group's own help.
		if len(rest) > 0 && (rest[0] == "-h" || rest[0] == "--help" || rest[0] == "help") {
			groupUsage(e.stdout, name)
			return 0
		}
		if len(rest) > 0 {
			fmt.Fprintf(e.stderr, "sentinelctl: unknown command %q\n\n", name+" "+rest[0])
		}
		groupUsage(e.stderr, name)
		return 2
	}
	if !ok {
		fmt.Fprintf(e.stderr, "sentinelctl: unknown command %q\n\n", strings.Join(args[:min(2, len(args))], " "))
		usage(e.stderr)
		return 2
	}
	return finish(e, c.name, c.run(ctx, e, rest))
}

// isGroup reports whether name is the first word of two-word commands
// ("keys" of "keys create").
func isGroup(name string) bool {
	for n := range commands {
		if strings.HasPrefix(n, name+" ") {
			return true
		}
	}
	return false
}

// groupUsage lists a group's commands, as usage lists all of them.
func groupUsage(w io.Writer, group string) {
	fmt.Fprintf(w, "Usage: sentinelctl %s COMMAND [flags]\n\nCommands:\n", group)
	names := make([]string, 0, len(commands))
	for n := range commands {
		if strings.HasPrefix(n, group+" ") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-16s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\nRun 'sentinelctl %s COMMAND -h' for a command's flags.\n", group)
}

func finish(e *env, name string, err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	fmt.Fprintf(e.stderr, "sentinelctl %s: %v\n", name, err)
	return 1
}

// newFlags returns a flag set whose -h prints usage text and flags.
func newFlags(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: sentinelctl %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}
