// Package config resolves waorders' settings from flags, WAORDERS_*
// environment variables and a config file, in that order of precedence,
// validates them, and prints them with secrets masked.
package config

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// EnvName returns the environment variable of a flag: "api-token" →
// "WAORDERS_API_TOKEN".
func EnvName(flagName string) string {
	return "WAORDERS_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Resolve parses args into fs, then fills every flag not given on the
// command line from its environment variable, then from the config file
// named by the flag "config" (or WAORDERS_CONFIG). secrets lists the flags
// whose values must never be printed.
//
// A secret may also be read from a file. When fs has a companion flag named
// after it with "-file" (--api-token-file for --api-token; its variable is
// WAORDERS_API_TOKEN_FILE and its config key api-token-file), the companion
// is resolved like any flag and the file it names is read when it comes
// from a higher source than the secret's own value: --api-token-file beats
// WAORDERS_API_TOKEN, and WAORDERS_API_TOKEN_FILE beats an api-token line in
// the config file. From the same source the value wins, except on the
// command line, where giving both is an error. Without a companion flag,
// WAORDERS_<NAME>_FILE is read when WAORDERS_<NAME> is empty. A file's
// trailing newlines are dropped. Calling Resolve again with the same
// arguments re-reads every file (SIGHUP does).
func Resolve(fs *flag.FlagSet, args []string, getenv func(string) string, secrets []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; options start with --, see --help", fs.Arg(0))
	}
	const (
		fromNone = iota
		fromConfig
		fromEnv
		fromFlag
	)
	level := map[string]int{}
	fs.Visit(func(f *flag.Flag) { level[f.Name] = fromFlag })

	var file map[string]string
	if cf := fs.Lookup("config"); cf != nil {
		path := cf.Value.String()
		if level["config"] != fromFlag {
			if v := getenv(EnvName("config")); v != "" {
				path = v
			}
		}
		if path != "" {
			var err error
			if file, err = readFile(path); err != nil {
				return err
			}
			for k := range file {
				// One file configures every command: a setting of another
				// command (url for the CLI, addr for serve) is not an error.
				if (fs.Lookup(k) == nil && !KnownSetting(k)) || k == "config" {
					return fmt.Errorf("config file %s: unknown setting %q; the names are those of the flags (see --help)", path, k)
				}
			}
		}
	}
	companion := func(name string) bool {
		return slices.Contains(secrets, name) && fs.Lookup(name+"-file") != nil
	}

	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if level[f.Name] == fromFlag || f.Name == "config" {
			return
		}
		env := EnvName(f.Name)
		val, from, ok := getenv(env), env, false
		if val != "" {
			ok, level[f.Name] = true, fromEnv
		} else if slices.Contains(secrets, f.Name) && !companion(f.Name) && getenv(env+"_FILE") != "" {
			b, err := os.ReadFile(getenv(env + "_FILE"))
			if err != nil {
				errs = append(errs, fmt.Errorf("%s_FILE: %w", env, err))
				return
			}
			val, from, ok = strings.TrimRight(string(b), "\r\n"), env+"_FILE", true
			level[f.Name] = fromEnv
		} else if v, in := file[f.Name]; in {
			val, from, ok = v, "config file", true
			level[f.Name] = fromConfig
		}
		if !ok {
			return
		}
		if err := f.Value.Set(val); err != nil {
			errs = append(errs, fmt.Errorf("%s (from %s): %w", f.Name, from, err))
		}
	})
	for _, name := range secrets {
		if !companion(name) {
			continue
		}
		fileFlag := name + "-file"
		path := fs.Lookup(fileFlag).Value.String()
		switch lf, lv := level[fileFlag], level[name]; {
		case path == "" || lf < lv:
			continue
		case lf == lv && lf == fromFlag:
			errs = append(errs, fmt.Errorf("--%s and --%s: give one of them", name, fileFlag))
			continue
		case lf == lv:
			continue // the value wins over a file from the same source
		}
		b, err := os.ReadFile(path)
		if err != nil {
			src := map[int]string{fromFlag: "--" + fileFlag, fromEnv: EnvName(fileFlag), fromConfig: fileFlag + " (config file)"}[level[fileFlag]]
			errs = append(errs, fmt.Errorf("%s: %w", src, err))
			continue
		}
		if err := fs.Lookup(name).Value.Set(strings.TrimRight(string(b), "\r\n")); err != nil {
			errs = append(errs, fmt.Errorf("%s (from %s): %w", name, path, err))
		}
	}
	return errors.Join(errs...)
}

// readFile reads a config file of "name = value" (or "name: value") lines;
// # starts a comment, values may be double-quoted.
func readFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config file: %w", err)
	}
	return parseFile(path, bytes.NewReader(b))
}

func parseFile(name string, r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.IndexAny(line, "=:")
		if i <= 0 {
			return nil, fmt.Errorf("config file %s line %d: want name = value", name, n)
		}
		k := strings.ReplaceAll(strings.TrimSpace(line[:i]), "_", "-")
		v := strings.TrimSpace(line[i+1:])
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		} else if j := strings.Index(v, " #"); j >= 0 {
			v = strings.TrimSpace(v[:j])
		}
		out[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("config file %s: %w", name, err)
	}
	return out, nil
}

// List is a flag.Value for comma-separated values; setting it replaces the list.
type List []string

func (l *List) String() string { return strings.Join(*l, ",") }

// Set splits v on commas, trimming spaces and dropping empty parts.
func (l *List) Set(v string) error {
	*l = nil
	for p := range strings.SplitSeq(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}
