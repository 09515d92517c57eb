package cli

import (
	"runtime/debug"
	"strings"
)

// buildVersion describes the build from what the Go toolchain recorded in
// the binary: the main module's version (a tag such as v0.10.0, or a
// pseudo-version for a commit after it, with +dirty for uncommitted
// changes; "(devel)" when the toolchain could not tell) and the commit,
// its time and whether the tree was modified. `go build` and `make build`
// in a git checkout record all of it; `go run` records no commit.
func buildVersion(bi *debug.BuildInfo) string {
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "dev"
	}
	var rev, at string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return v
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	var extra []string
	extra = append(extra, "commit "+rev)
	if at != "" {
		extra = append(extra, at)
	}
	if modified && !strings.Contains(v, "dirty") {
		extra = append(extra, "modified")
	}
	return v + " (" + strings.Join(extra, ", ") + ")"
}
