package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/auditsentinel/sentinel/internal/client"
	"github.com/auditsentinel/sentinel/internal/version"
)

// clientOpts are the flags every client command shares.
type clientOpts struct {
	url, apiKey string
	json        bool
}

func addClientFlags(fs *flag.FlagSet) *clientOpts {
	o := &clientOpts{}
	fs.StringVar(&o.url, "url", "", "server URL, e.g. https://audit.example.com (default $SENTINEL_URL)")
	fs.StringVar(&o.apiKey, "api-key", "", "API key (default $SENTINEL_API_KEY)")
	fs.BoolVar(&o.json, "json", false, "print JSON (the default when stdout is not a terminal)")
	return o
}

// client builds the API client from the flags, then the environment.
func (o *clientOpts) client(e *env) (*client.Client, error) {
	u := o.url
	if u == "" {
		u = e.getenv("SENTINEL_URL")
	}
	key := o.apiKey
	if key == "" {
		key = e.getenv("SENTINEL_API_KEY")
	}
	if u == "" {
		return nil, errors.New("no server given: pass --url or set SENTINEL_URL")
	}
	if key == "" {
		return nil, errors.New("no API key given: pass --api-key or set SENTINEL_API_KEY")
	}
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return nil, fmt.Errorf("server URL %q must start with http:// or https://", u)
	}
	// No overall timeout: downloads take as long as they take; the
	// context (Ctrl-C) ends them.
	return &client.Client{BaseURL: u, APIKey: key, HTTP: &http.Client{}, UserAgent: "sentinelctl/" + version.Get()}, nil
}

// jsonOutput reports whether to print JSON: asked for, or stdout is not a
// terminal (a script is reading).
func (o *clientOpts) jsonOutput(e *env) bool { return o.json || !isTerminal(e.stdout) }

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }

func (s *stringList) Set(v string) error {
	*s = append(*s, v)
	return nil
}

// parseArgs parses flags that may come before or after the positional
// arguments ("exports pull ID -o FILE") and returns the positionals.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// idAndClient parses a command that takes one export ID and talks to the
// server: its flags, its one positional argument, and the client.
func idAndClient(e *env, fs *flag.FlagSet, co *clientOpts, args []string) (string, *client.Client, error) {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return "", nil, err
	}
	if len(pos) != 1 {
		fs.Usage()
		return "", nil, errUsage
	}
	c, err := co.client(e)
	if err != nil {
		return "", nil, err
	}
	return pos[0], c, nil
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
