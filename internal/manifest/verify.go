package manifest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// SignatureStatus is the outcome of checking a manifest's signature.
type SignatureStatus string

// Signature outcomes.
const (
	SignatureValid      SignatureStatus = "valid"
	SignatureInvalid    SignatureStatus = "invalid"     // altered manifest, or another key with the same id
	SignatureUnknownKey SignatureStatus = "unknown_key" // key_id is none of the given keys
	SignatureMissing    SignatureStatus = "missing"     // the manifest is not signed
	SignatureUnchecked  SignatureStatus = "unchecked"   // no public key was given
)

// Report says what matched when a file was checked against a manifest.
type Report struct {
	ExportID string `json:"export_id"`

	ExpectedSize   int64  `json:"expected_size"`
	ActualSize     int64  `json:"actual_size"`
	ExpectedSHA256 string `json:"expected_sha256"`
	ActualSHA256   string `json:"actual_sha256"`

	KeyID     string          `json:"key_id"`
	Signature SignatureStatus `json:"signature"`
	// SignatureError is why the signature did not verify, if it did not.
	SignatureError string `json:"signature_error,omitempty"`
}

// SizeOK reports whether the file has the size the manifest states.
func (r Report) SizeOK() bool { return r.ActualSize == r.ExpectedSize }

// DigestOK reports whether the file has the SHA-256 the manifest states.
func (r Report) DigestOK() bool {
	return r.ExpectedSHA256 != "" && strings.EqualFold(r.ActualSHA256, r.ExpectedSHA256)
}

// OK reports whether everything matched: the file is the one the manifest
// describes, and the manifest is the one the service signed.
func (r Report) OK() bool { return r.SizeOK() && r.DigestOK() && r.Signature == SignatureValid }

// VerifyFile reads the file from r, computing its size and SHA-256 as it
// streams, and checks them and m's signature (with keys; none means the
// signature is not checked). The error is only for failing to read r: a
// mismatch is reported in the Report, not as an error.
func VerifyFile(r io.Reader, m Manifest, keys PublicKeys) (Report, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return Report{}, fmt.Errorf("manifest: read file: %w", err)
	}
	rep := Report{
		ExportID:       m.ExportID,
		ExpectedSize:   m.ByteSize,
		ActualSize:     n,
		ExpectedSHA256: m.SHA256,
		ActualSHA256:   hex.EncodeToString(h.Sum(nil)),
		KeyID:          m.KeyID,
	}
	if len(keys) == 0 {
		rep.Signature = SignatureUnchecked
		return rep, nil
	}
	switch err := Verify(m, keys); {
	case err == nil:
		rep.Signature = SignatureValid
	case errors.Is(err, ErrUnsigned):
		rep.Signature = SignatureMissing
	case errors.Is(err, ErrUnknownKey):
		rep.Signature = SignatureUnknownKey
		rep.SignatureError = err.Error()
	default:
		rep.Signature = SignatureInvalid
		rep.SignatureError = err.Error()
	}
	return rep, nil
}

// String is the report for people, one check a line, then the verdict.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "export     %s\n", r.ExportID)
	if r.SizeOK() {
		fmt.Fprintf(&b, "size       OK        %d bytes\n", r.ActualSize)
	} else {
		fmt.Fprintf(&b, "size       MISMATCH  manifest says %d bytes, file has %d\n", r.ExpectedSize, r.ActualSize)
	}
	switch {
	case r.DigestOK():
		fmt.Fprintf(&b, "sha256     OK        %s\n", r.ActualSHA256)
	case r.ExpectedSHA256 == "":
		fmt.Fprintf(&b, "sha256     MISSING   the manifest states no digest; file has %s\n", r.ActualSHA256)
	default:
		fmt.Fprintf(&b, "sha256     MISMATCH  manifest says %s\n", r.ExpectedSHA256)
		fmt.Fprintf(&b, "                     file has      %s\n", r.ActualSHA256)
	}
	switch r.Signature {
	case SignatureValid:
		fmt.Fprintf(&b, "signature  OK        Ed25519, key %s\n", r.KeyID)
	case SignatureInvalid:
		fmt.Fprintf(&b, "signature  INVALID   key %s: the manifest was altered after signing, or signed by another key\n", r.KeyID)
	case SignatureUnknownKey:
		fmt.Fprintf(&b, "signature  UNKNOWN   key %q is not among the public keys given (rotated, or another service)\n", r.KeyID)
	case SignatureMissing:
		fmt.Fprintf(&b, "signature  MISSING   the manifest is not signed\n")
	default:
		fmt.Fprintf(&b, "signature  SKIPPED   no public key given; the file matches the manifest, but the manifest is unproven\n")
	}
	switch {
	case r.OK():
		b.WriteString("VERIFIED: the file is exactly the export the service signed\n")
	case !r.SizeOK() || !r.DigestOK():
		b.WriteString("FAILED: the file is not the file this manifest describes\n")
	default:
		b.WriteString("FAILED: the manifest's signature could not be verified\n")
	}
	return b.String()
}
