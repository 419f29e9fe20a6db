package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"

	"github.com/auditsentinel/sentinel/internal/client"
	"github.com/auditsentinel/sentinel/internal/manifest"
)

func init() {
	register(command{"verify", "check a file against its signed manifest, offline", cmdVerify})
	register(command{"signing-key", "generate an Ed25519 key for SIGNING_KEY", cmdSigningKey})
}

const verifySynopsis = `verify FILE MANIFEST [--public-key KEY]… [--keys-url URL]
       verify --chain DIR [--public-key KEY]… [--keys-url URL] [--from SEQ]
       verify --chain --schedule ID [--public-key KEY]… [--from SEQ]

Checks that FILE is exactly the export MANIFEST describes (size and
SHA-256) and that MANIFEST carries a valid Ed25519 signature by one of the
server's public keys. Without --public-key or --keys-url, the keys are
fetched from SENTINEL_URL (or --url) at /v5/audit-sentinel/signing-keys,
which needs no API key. To verify fully offline, pass --public-key KEY: KEY
is base64 (a public_key that endpoint lists) or a PEM "PUBLIC KEY".
--keys-url fetches the published keys from another URL (a path is resolved
against --url/SENTINEL_URL).

Prints one line per check and a verdict. Exit status 0 only when the size,
the digest and the signature all match; 1 otherwise.

With --chain, checks the manifests of one schedule's runs as a chain: every
*.json manifest in DIR (and the file beside each, named as the API's
download or <export_id>.<extension>, when there is one), or with --schedule
those the API serves for the schedule's completed runs (with --schedule and
no key given, the server's published keys are used). Prints one line per run
— ok, altered (signature, file or the next run's digest do not match),
missing (a hole in the numbers, a run that failed or was deleted, a file
absent when the others are there), out_of_order (a link to another manifest
than the previous number's, a window or position going backwards) or gap (a
window that does not start one microsecond after the previous one's end) —
and a verdict; --json prints the same as JSON. Exit status 0 only when every
run is ok. --from skips runs numbered below SEQ (pruned archives).

Flags:`

// verifyOutput is the JSON form of a verification.
type verifyOutput struct {
	OK bool `json:"ok"`
	manifest.Report
}

func cmdVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "verify", verifySynopsis)
	var pubs stringList
	fs.Var(&pubs, "public-key", "a public key that may have signed the manifest (repeatable)")
	keysURL := fs.String("keys-url", "", "fetch the public keys from this URL (or server path)")
	url := fs.String("url", "", "server for a --keys-url path (default $SENTINEL_URL)")
	apiKey := fs.String("api-key", "", "API key for --keys-url (default $SENTINEL_API_KEY)")
	asJSON := addJSONFlag(fs)
	chain := fs.Bool("chain", false, "check a schedule's manifests as a chain (a directory, or --schedule)")
	scheduleID := fs.String("schedule", "", "with --chain: fetch the manifests of this schedule's runs from the API")
	from := fs.Int64("from", 1, "with --chain: the first run number to check")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	wantArgs := 2
	if *chain {
		wantArgs = 1
		if *scheduleID != "" {
			wantArgs = 0
		}
	}
	if len(pos) != wantArgs || (!*chain && *scheduleID != "") {
		fs.Usage()
		return errUsage
	}
	c := &client.Client{BaseURL: *url, APIKey: *apiKey}
	if c.BaseURL == "" {
		c.BaseURL = e.getenv("SENTINEL_URL")
	}
	if c.APIKey == "" {
		c.APIKey = e.getenv("SENTINEL_API_KEY")
	}
	keys := manifest.PublicKeys{}
	for _, s := range pubs {
		k, err := manifest.ParsePublicKey(s)
		if err != nil {
			return fmt.Errorf("--public-key: %w", err)
		}
		keys.Add(k)
	}
	// The README's plain `verify FILE MANIFEST` checks the signature too:
	// with no key given, the server's published keys are the ones to trust.
	if *keysURL != "" || (len(keys) == 0 && (c.BaseURL != "" || *scheduleID != "")) {
		fetched, err := c.SigningKeys(ctx, *keysURL)
		if err != nil {
			if *keysURL != "" {
				return fmt.Errorf("--keys-url: %w", err)
			}
			return fmt.Errorf("fetching the signing keys from %s (SENTINEL_URL): %w", c.BaseURL, err)
		}
		for _, k := range fetched {
			keys.Add(k)
		}
	}
	if len(keys) == 0 {
		fmt.Fprintln(e.stderr, "sentinelctl verify: no public key, so the signature is not checked. "+
			"Set SENTINEL_URL to the server that made the export (its keys are fetched from "+
			"/v5/audit-sentinel/signing-keys, no API key needed), or pass --public-key KEY with a "+
			"public_key that endpoint lists.")
	}
	if *chain {
		dir := ""
		if len(pos) == 1 {
			dir = pos[0]
		}
		return verifyChain(ctx, e, c, dir, *scheduleID, keys, *from, asJSON.on(e))
	}
	mf, err := os.Open(pos[1])
	if err != nil {
		return err
	}
	defer mf.Close()
	m, err := manifest.Parse(mf)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[1], err)
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	rep, err := manifest.VerifyFile(f, m, keys)
	if err != nil {
		return err
	}
	if asJSON.on(e) {
		if err := printJSON(e.stdout, verifyOutput{OK: rep.OK(), Report: rep}); err != nil {
			return err
		}
	} else {
		fmt.Fprint(e.stdout, rep.String())
	}
	if !rep.OK() {
		return errors.New("verification FAILED")
	}
	return nil
}

func cmdSigningKey(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "signing-key", `signing-key

Generates an Ed25519 key for signing export manifests. Prints the private
key (base64 seed, the form SIGNING_KEY takes) alone on stdout, and its key
id and public key on stderr; with --json, or when stdout is not a terminal,
all three as JSON (signing_key, key_id, public_key), so a script writes
SIGNING_KEY=$(sentinelctl signing-key --json=false). Keep the private key
secret.

Flags:`)
	asJSON := addJSONFlag(fs)
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	k, seed, err := manifest.GenerateKey()
	if err != nil {
		return err
	}
	pub := k.Public().(ed25519.PublicKey)
	info := manifest.PublicKeys{}
	info.Add(pub)
	l := info.List()[0]
	if asJSON.on(e) {
		return printJSON(e.stdout, map[string]string{"signing_key": seed, "key_id": l.KeyID, "public_key": l.PublicKey})
	}
	fmt.Fprintf(e.stderr, "key id %s, public key %s\n", l.KeyID, l.PublicKey)
	fmt.Fprintln(e.stdout, seed)
	return nil
}
