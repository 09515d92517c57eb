package loadgen

import (
	"strings"
	"testing"

	"github.com/waorders/waorders/internal/simulate"
)

func TestCallbackURL(t *testing.T) {
	tests := []struct {
		target string
		meta   bool
		want   string
		err    bool
	}{
		{target: "http://127.0.0.1:8080", want: "http://127.0.0.1:8080/v1/callbacks/kaleyra"},
		{target: "http://127.0.0.1:8080/", meta: true, want: "http://127.0.0.1:8080/v1/callbacks/meta"},
		{target: "https://hooks.example.com/kaleyra/in?x=1", want: "https://hooks.example.com/kaleyra/in?x=1"},
		{target: "127.0.0.1:8080", err: true},
		{target: "ftp://host/x", err: true},
		{target: "http://", err: true},
		{target: "", err: true},
	}
	for _, tt := range tests {
		got, err := CallbackURL(tt.target, tt.meta)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("CallbackURL(%q, %v) = %q, %v; want %q, err %v", tt.target, tt.meta, got, err, tt.want, tt.err)
		}
	}
	if _, err := CallbackURL("ftp://user:hunter2@host/", false); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %v leaks the password or is missing", err)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{URL: "http://localhost:8080"}
	tests := []struct {
		name   string
		change func(*Config)
		valid  bool
	}{
		{"Minimal", func(*Config) {}, true},
		{"Everything", func(c *Config) {
			c.Auth = Auth{Secret: "s", Username: "u", Password: "p"}
			c.Count, c.Rate, c.Concurrency, c.DuplicateShare, c.MalformedShare, c.BatchSize = 10, 5, 2, 0.5, 0.5, 3
			c.Mix = map[simulate.Kind]float64{simulate.KindOrder: 1}
		}, true},
		{"BadURL", func(c *Config) { c.URL = "localhost" }, false},
		{"NegativeCount", func(c *Config) { c.Count = -1 }, false},
		{"NegativeRate", func(c *Config) { c.Rate = -1 }, false},
		{"DuplicateShareOverOne", func(c *Config) { c.DuplicateShare = 1.1 }, false},
		{"MalformedShareOverOne", func(c *Config) { c.MalformedShare = 2 }, false},
		{"BasicAndBearer", func(c *Config) { c.Auth = Auth{Username: "u", BearerToken: "t"} }, false},
		{"PasswordWithoutUser", func(c *Config) { c.Auth = Auth{Password: "p"} }, false},
		{"BadHeaderName", func(c *Config) { c.Auth = Auth{SecretHeader: "X Secret", Secret: "s"} }, false},
		{"UnknownKind", func(c *Config) { c.Mix = map[simulate.Kind]float64{"poll": 1} }, false},
	}
	for _, tt := range tests {
		cfg := ok
		tt.change(&cfg)
		if err := cfg.Validate(); (err == nil) != tt.valid {
			t.Errorf("%s: Validate() = %v, want valid=%v", tt.name, err, tt.valid)
		}
	}
}
