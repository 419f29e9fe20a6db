package console

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/httpapi"
	"github.com/auditsentinel/sentinel/internal/manifest"
)

// signatureState is what the archive says about an export's signed
// manifest.
type signatureState string

const (
	sigValid     signatureState = "valid"     // signed by a key the server publishes, and about this file
	sigDisabled  signatureState = "disabled"  // SIGNING_KEY is unset: the API makes no manifests
	sigInvalid   signatureState = "invalid"   // it does not verify, or describes another file
	sigUnchecked signatureState = "unchecked" // the API would not hand the manifest or the keys over
)

// signature is one export's manifest check, as a row shows it.
type signature struct {
	State signatureState
	KeyID string
	// Detail says why, for a state other than valid (a tooltip).
	Detail string
}

// Text is the words the archive shows.
func (s signature) Text(p *page) string {
	if s.State == sigValid {
		return p.T("signature.valid", s.KeyID)
	}
	return p.T("signature." + string(s.State))
}

// signingKeys fetches the public keys the server publishes for its
// manifests (GET /signing-keys: the current key and retired ones). The
// result is nil when the API refused; its failure is returned for the rows
// to show.
func (c *Console) signingKeys(r *request) (manifest.PublicKeys, *httpapi.ErrorDetail, error) {
	res, err := c.call(r, http.MethodGet, "/signing-keys", "", nil)
	if err != nil {
		return nil, nil, err
	}
	if f := res.failure(); f != nil {
		return nil, f, nil
	}
	var list httpapi.SigningKeys
	if err := res.decode(&list); err != nil {
		return nil, nil, fmt.Errorf("console: signing keys: %w", err)
	}
	keys, bad := publishedKeys(list)
	return keys, bad, nil
}

// publishedKeys reads the published keys. One that is not what it claims
// to be verifies nothing: every row says so, rather than the page failing.
func publishedKeys(list httpapi.SigningKeys) (manifest.PublicKeys, *httpapi.ErrorDetail) {
	keys, err := manifest.KeysFromList(list.Keys)
	if err != nil {
		return nil, &httpapi.ErrorDetail{Code: audit.EINTERNAL, Message: err.Error()}
	}
	return keys, nil
}

// checkSignature fetches export st's manifest through the API, as a client
// downloading it would, and verifies it.
func (c *Console) checkSignature(r *request, st httpapi.ExportStatus, keys manifest.PublicKeys) (signature, error) {
	res, err := c.call(r, http.MethodGet, "/exports/"+url.PathEscape(st.ID)+"/manifest", "", nil)
	if err != nil {
		return signature{}, err
	}
	return judgeManifest(res, st, keys), nil
}

// judgeManifest decides what the API's answer to GET …/manifest says about
// export st: verified with keys (the server's published signing keys) and
// about st's very file, or why not.
func judgeManifest(res apiResult, st httpapi.ExportStatus, keys manifest.PublicKeys) signature {
	if f := res.failure(); f != nil {
		if f.Code == audit.ENOTIMPLEMENTED {
			return signature{State: sigDisabled, Detail: f.Message}
		}
		return signature{State: sigUnchecked, Detail: f.Message}
	}
	m, err := manifest.Parse(bytes.NewReader(res.body))
	if err != nil {
		return signature{State: sigInvalid, Detail: err.Error()}
	}
	if err := manifest.Verify(m, keys); err != nil {
		return signature{State: sigInvalid, KeyID: m.KeyID, Detail: err.Error()}
	}
	// A valid signature over another file's facts is no proof of this one.
	if m.ExportID != st.ID || m.SHA256 != st.SHA256 || st.SizeBytes == nil || m.ByteSize != *st.SizeBytes {
		return signature{State: sigInvalid, KeyID: m.KeyID,
			Detail: fmt.Sprintf("the manifest describes export %s (%d bytes, sha256 %s)", m.ExportID, m.ByteSize, m.SHA256)}
	}
	return signature{State: sigValid, KeyID: m.KeyID}
}
