// Package version names the build of Audit Sentinel that is running, for
// export manifests and logs.
package version

import "runtime/debug"

// Version is set at build time:
//
//	go build -ldflags "-X github.com/auditsentinel/sentinel/internal/version.Version=1.4.0" ./cmd/api
//
// When it is not, Get falls back to the module version the Go toolchain
// recorded, and then to "dev".
var Version = ""

// Get returns the service version: Version when set, else the main
// module's version from the build info (a tagged `go install`), else "dev".
func Get() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
