package cli

import (
	"context"
	"fmt"
)

// subcommand is the run function of a command's subcommand.
type subcommand = func(context.Context, Env, []string) error

// runSubcommand runs the subcommand args[0] names in subs with the rest of
// args, or answers as noSubcommand.
func runSubcommand(ctx context.Context, env Env, args []string, subs map[string]subcommand, synopsis, needs string) error {
	if len(args) > 0 {
		if run, ok := subs[args[0]]; ok {
			return run(ctx, env, args[1:])
		}
	}
	return noSubcommand(env, args, synopsis, needs)
}

// noSubcommand answers a command given none of its subcommands: its
// synopsis on stdout when args ask for help, else on stderr with a usage
// error saying what the command needs.
func noSubcommand(env Env, args []string, synopsis, needs string) error {
	if len(args) > 0 {
		switch args[0] {
		case "-h", "--help", "-help", "help":
			fmt.Fprintln(env.Stdout, synopsis)
			return nil
		}
	}
	fmt.Fprintln(env.Stderr, synopsis)
	return fmt.Errorf("%w: %s", ErrUsage, needs)
}
