package loadgen

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/waorders/waorders/internal/simulate"
)

// Default values used for zero fields of Config.
const (
	DefaultConcurrency      = 16
	DefaultTimeout          = 10 * time.Second
	DefaultSecretHeader     = "X-Callback-Secret"
	DefaultProgressInterval = time.Second
	// KaleyraPath and MetaPath are appended to a target URL that has no path.
	KaleyraPath = "/v1/callbacks/kaleyra"
	MetaPath    = "/v1/callbacks/meta"
)

// Auth is how callbacks authenticate. Any combination of the secret header
// with one of Basic or Bearer may be set; none is allowed too (for a server
// run with --insecure-no-auth, or to test that it refuses).
type Auth struct {
	// SecretHeader is the header carrying Secret; empty means
	// DefaultSecretHeader.
	SecretHeader string
	Secret       string
	// Username and Password, when Username is set, send HTTP Basic.
	Username string
	Password string
	// BearerToken, when set, sends "Authorization: Bearer <token>".
	BearerToken string
}

// Config says what Run sends, where, how fast and for how long. Zero values
// take the defaults documented on each field.
type Config struct {
	// URL is the callback URL, or the server's base URL ("http://host:8080"),
	// to which KaleyraPath or MetaPath is then appended.
	URL  string
	Auth Auth
	// Meta sends Meta-native bodies (to MetaPath when URL has no path),
	// signed with AppSecret in X-Hub-Signature-256. Without AppSecret they
	// go unsigned, which a receiver must refuse.
	Meta      bool
	AppSecret string

	// Count is the number of requests to send, duplicates included;
	// Duration stops sending after that long. With both set the first
	// reached wins; with neither, Run sends until ctx is done.
	Count    int64
	Duration time.Duration
	// Rate is the number of requests per second; 0 means as fast as the
	// receiver answers.
	Rate float64
	// Concurrency is the number of requests in flight at most (and of
	// keep-alive connections); 0 means DefaultConcurrency.
	Concurrency int

	// DuplicateShare is the probability, 0 to 1, that a request resends a
	// body sent before (byte for byte, same signature) instead of a new one.
	DuplicateShare float64
	// MalformedShare is the probability, 0 to 1, that a new body is
	// malformed (see simulate.Defect).
	MalformedShare float64
	// BatchSize is the number of messages per callback; 0 means 1.
	BatchSize int
	// MaxItems is the largest number of lines per order; 0 means 5.
	MaxItems int
	// Mix is the share of each kind; nil means simulate.DefaultMix.
	Mix map[simulate.Kind]float64
	// Seed makes runs repeatable: the same seed sends the same bodies.
	Seed uint64

	// Timeout bounds one request, connection to last byte of the answer;
	// 0 means DefaultTimeout.
	Timeout time.Duration
	// InsecureSkipVerify accepts any TLS certificate (self-signed test
	// servers).
	InsecureSkipVerify bool

	// AckFile, when set, receives one line per acknowledged message id and
	// one line "<message id> <status>" per acknowledged status update, each
	// once, however often its callback was sent. Ids of messages a receiver
	// should quarantine (simulate.Callback.DefectiveIDs) are not written.
	AckFile io.Writer
	// ProgressInterval is how often Run writes a progress line; 0 means
	// DefaultProgressInterval.
	ProgressInterval time.Duration
}

// Validate reports the first problem with cfg.
func (cfg *Config) Validate() error {
	if _, err := CallbackURL(cfg.URL, cfg.Meta); err != nil {
		return err
	}
	switch {
	case cfg.Count < 0, cfg.Duration < 0, cfg.Rate < 0, cfg.Concurrency < 0,
		cfg.Timeout < 0, cfg.ProgressInterval < 0, cfg.BatchSize < 0, cfg.MaxItems < 0:
		return errors.New("config: counts, durations and rates must not be negative")
	case cfg.DuplicateShare < 0 || cfg.DuplicateShare > 1:
		return fmt.Errorf("config: duplicate share %v is not between 0 and 1", cfg.DuplicateShare)
	case cfg.Auth.Username != "" && cfg.Auth.BearerToken != "":
		return errors.New("config: Basic and Bearer authentication both use the Authorization header; choose one")
	case cfg.Auth.Username == "" && cfg.Auth.Password != "":
		return errors.New("config: a Basic password needs a username")
	case cfg.Auth.SecretHeader != "" && !validHeaderName(cfg.Auth.SecretHeader):
		return fmt.Errorf("config: %q is not a valid header name", cfg.Auth.SecretHeader)
	}
	return cfg.generatorOptions().Validate()
}

func (cfg *Config) generatorOptions() simulate.Options {
	return simulate.Options{
		MessagesPerCallback: cfg.BatchSize,
		MaxItems:            cfg.MaxItems,
		Mix:                 cfg.Mix,
		MalformedShare:      cfg.MalformedShare,
		Envelope:            cfg.envelope(),
	}
}

func validHeaderName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return s != ""
}

// CallbackURL returns the URL Run posts to: target itself when it has a
// path, else target with KaleyraPath (or MetaPath when meta is set).
func CallbackURL(target string, meta bool) (string, error) {
	u, err := url.Parse(target)
	if err != nil {
		return "", errors.New("config: the target is not a URL; want http(s)://host[:port][/path]")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("config: target %q is not an http(s)://host[:port][/path] URL", u.Redacted())
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = KaleyraPath
		if meta {
			u.Path = MetaPath
		}
	}
	return u.String(), nil
}
