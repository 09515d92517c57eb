package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/config"
	"github.com/waorders/waorders/internal/password"
	"github.com/waorders/waorders/internal/store"
)

const usersSynopsis = `Usage: waorders users add|list|disable|enable|reset-password [options]

Manages the dashboard's staff accounts, directly in the database (the
server need not run):

  waorders users add --username NAME --role admin|staff|viewer
  waorders users list
  waorders users disable --username NAME      (ends its sessions)
  waorders users enable --username NAME
  waorders users reset-password --username NAME (ends its sessions)

add and reset-password read the password from WAORDERS_USER_PASSWORD, or
ask for it on the terminal; with --generate they make a strong one and
print it once. A password handed to someone else should be --temporary
(implied by --generate): the user must replace it at the first login.
A password set without it is the user's own.

Roles: admin (users, webhooks, notification settings), staff (orders,
customers, quarantine), viewer (read only).
Storage is chosen like serve's: --database-url or --config.`

func runUsers(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(env.Stderr, usersSynopsis)
		return fmt.Errorf("%w: say what to do: add, list, disable, enable or reset-password", ErrUsage)
	}
	sub, args := args[0], args[1:]
	var (
		cfg                 config.Serve
		username, role      string
		temporary, generate bool
	)
	fs := newFlagSet(env, "users "+sub, usersSynopsis, args)
	fs.StringVar(&cfg.ConfigFile, "config", "", "read settings from this `file`")
	fs.StringVar(&cfg.DatabaseURL, "database-url", config.DefaultDatabaseURL, "storage: a SQLite file `path`, sqlite:///abs/path.db, or postgres://user@host/db")
	if sub != "list" {
		fs.StringVar(&username, "username", "", "the user's `name`")
	}
	if sub == "add" {
		fs.StringVar(&role, "role", "", "admin, staff or viewer")
	}
	if sub == "add" || sub == "reset-password" {
		fs.BoolVar(&temporary, "temporary", false, "the user must replace the password at the first login (for a password you hand over)")
		fs.BoolVar(&generate, "generate", false, "generate a strong password and print it once (implies --temporary)")
	}
	if err := config.Resolve(fs, args, env.Getenv, config.ServeSecrets); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	switch sub {
	case "add", "disable", "enable", "reset-password", "list":
	default:
		return fmt.Errorf("%w: unknown users command %q; use add, list, disable, enable or reset-password", ErrUsage, sub)
	}
	if sub != "list" && username == "" {
		return fmt.Errorf("%w: --username is required", ErrUsage)
	}
	cfg.DBMaxConns = 2
	st, err := openStore(ctx, &cfg, newLogger(env.Stderr, "warn", "text"), cfg.Driver() == "postgres")
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "list":
		users, err := st.ListUsers(ctx)
		if err != nil {
			return err
		}
		t := newTable("USERNAME", "ROLE", "STATE", "PASSWORD", "CREATED")
		for _, u := range users {
			state, pw := "active", "own"
			if u.Disabled {
				state = "disabled"
			}
			if u.MustChangePassword {
				pw = "one-time" // to be replaced at the next login
			}
			t.row(u.Username, u.Role, state, pw, u.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"))
		}
		return t.write(env.Stdout)
	case "add":
		if err := store.ValidateRole(role); err != nil {
			return fmt.Errorf("%w: --role: %v", ErrUsage, err)
		}
		if err := store.ValidateUsername(username); err != nil {
			return fmt.Errorf("%w: --username: %v", ErrUsage, err)
		}
		pw, once, err := newPassword(env, generate, temporary)
		if err != nil {
			return err
		}
		if _, err := st.CreateUser(ctx, store.CreateUserParams{Username: username, Role: role, PasswordHash: password.Hash(pw), MustChangePassword: once}); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "user %s added with role %s\n", username, role)
		showPassword(env, username, pw, generate, once)
	case "disable", "enable":
		off := sub == "disable"
		if _, err := st.UpdateUser(ctx, store.UpdateUserParams{Username: username, Disabled: &off}); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "user %s %sd\n", username, sub)
	case "reset-password":
		pw, once, err := newPassword(env, generate, temporary)
		if err != nil {
			return err
		}
		h := password.Hash(pw)
		if _, err := st.UpdateUser(ctx, store.UpdateUserParams{Username: username, PasswordHash: &h, MustChangePassword: &once}); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "password of %s replaced; its sessions are ended\n", username)
		showPassword(env, username, pw, generate, once)
	}
	return nil
}

// newPassword returns the password of add or reset-password: generated
// (and so temporary) or read by readNewPassword, and whether the user
// must replace it at the first login.
func newPassword(env Env, generate, temporary bool) (pw string, once bool, err error) {
	if generate {
		if env.Getenv("WAORDERS_USER_PASSWORD") != "" {
			return "", false, fmt.Errorf("%w: --generate makes the password; unset WAORDERS_USER_PASSWORD or drop --generate", ErrUsage)
		}
		return password.Generate(), true, nil
	}
	pw, err = readNewPassword(env)
	return pw, temporary, err
}

// showPassword prints a generated password, the one time it is shown, and
// says when the user must replace it.
func showPassword(env Env, username, pw string, generated, once bool) {
	if generated {
		fmt.Fprintf(env.Stdout, "password (shown only now): %s\n", pw)
	}
	if once {
		fmt.Fprintf(env.Stdout, "%s must replace it at the first login\n", username)
	}
}

// readNewPassword takes the password from WAORDERS_USER_PASSWORD, else asks
// for it twice on the terminal without echo (or reads a line of a piped
// standard input).
func readNewPassword(env Env) (string, error) {
	pw := env.Getenv("WAORDERS_USER_PASSWORD")
	if pw == "" {
		if f, ok := env.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			fmt.Fprint(env.Stderr, "Password: ")
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(env.Stderr)
			if err != nil {
				return "", fmt.Errorf("read password: %w", err)
			}
			fmt.Fprint(env.Stderr, "Again: ")
			again, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(env.Stderr)
			if err != nil {
				return "", fmt.Errorf("read password: %w", err)
			}
			if string(b) != string(again) {
				return "", errors.New("the two passwords differ")
			}
			pw = string(b)
		} else if env.Stdin != nil {
			line, err := bufio.NewReader(env.Stdin).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return "", fmt.Errorf("read password: %w", err)
			}
			pw = strings.TrimRight(line, "\r\n")
		}
	}
	if pw == "" {
		return "", fmt.Errorf("%w: no password: set WAORDERS_USER_PASSWORD or type it when asked", ErrUsage)
	}
	if err := password.Check(pw); err != nil {
		return "", fmt.Errorf("%w: %v", ErrUsage, err)
	}
	return pw, nil
}

// ensureFirstAdmin creates the user admin with a generated password when
// there is no user at all, and returns that password to be shown once ("" when
// users exist). Instances starting together on one PostgreSQL database
// race harmlessly: one creates it, the others see the conflict and go on.
func ensureFirstAdmin(ctx context.Context, st store.Users) (string, error) {
	n, err := st.CountUsers(ctx)
	if err != nil {
		return "", fmt.Errorf("count dashboard users: %w", err)
	}
	if n > 0 {
		return "", nil
	}
	pw := password.Generate()
	// Shown once in the log: the admin must replace it at first login.
	_, err = st.CreateUser(ctx, store.CreateUserParams{Username: "admin", Role: store.RoleAdmin, PasswordHash: password.Hash(pw), MustChangePassword: true})
	if waorders.ErrorCode(err) == waorders.CodeConflict {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("create the first dashboard user: %w", err)
	}
	return pw, nil
}
