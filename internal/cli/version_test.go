package cli

import (
	"runtime/debug"
	"testing"
)

func TestBuildVersion(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	for _, tc := range []struct {
		version  string
		settings []debug.BuildSetting
		want     string
	}{
		{"(devel)", nil, "dev"},
		{"", nil, "dev"},
		{"v0.10.0", nil, "v0.10.0"},
		{"v0.10.0", vcs("vcs.revision", "0123456789abcdef0123", "vcs.time", "2026-01-02T03:04:05Z", "vcs.modified", "false"),
			"v0.10.0 (commit 0123456789ab, 2026-01-02T03:04:05Z)"},
		{"(devel)", vcs("vcs.revision", "abc", "vcs.modified", "true"), "dev (commit abc, modified)"},
		{"v0.10.1-0.20260102030405-0123456789ab+dirty", vcs("vcs.revision", "0123456789ab", "vcs.modified", "true"),
			"v0.10.1-0.20260102030405-0123456789ab+dirty (commit 0123456789ab)"},
	} {
		bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/waorders/waorders", Version: tc.version}, Settings: tc.settings}
		if got := buildVersion(bi); got != tc.want {
			t.Errorf("buildVersion(%q, %v) = %q, want %q", tc.version, tc.settings, got, tc.want)
		}
	}
}
