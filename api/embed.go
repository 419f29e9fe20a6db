// Package api holds the OpenAPI document of the HTTP API, embedded so the
// server serves exactly the document in the repository.
package api

import _ "embed"

// OpenAPI is openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
