// Command ann2snn converts trained ANNs (ONNX) into spiking neural networks,
// fine-tunes and evaluates them.
//
// Usage:
//
//	ann2snn <command> [flags] [args]
//
// Commands:
//
//	inspect   print the layers, shapes, parameters and MACs of an ONNX model
//	convert   convert an ONNX ANN into a calibrated SNN (.snn)
//	eval      evaluate an ONNX model (ANN) or a .snn model on a data set
//
// Run "ann2snn <command> --help" for the flags of each command.
//
// Exit status: 0 success, 1 usage error, 2 bad input (file, data, model),
// 3 internal error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes, documented in the package comment and the README.
const (
	exitOK       = 0
	exitUsage    = 1
	exitBadInput = 2
	exitInternal = 3
)

// usageError marks errors in how the command was called.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// inputError marks errors in the user's files or data.
type inputError struct{ err error }

func (e *inputError) Error() string { return e.err.Error() }
func (e *inputError) Unwrap() error { return e.err }

func badInput(err error) error {
	if err == nil {
		return nil
	}
	return &inputError{err}
}

// command is one subcommand: its name, one-line summary and entry point.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"inspect", "print the layers, shapes, parameters and MACs of an ONNX model", runInspect},
		{"convert", "convert an ONNX ANN into a calibrated SNN (.snn)", runConvert},
		{"eval", "evaluate an ONNX model (ANN) or a .snn model on a data set", runEval},
		{"finetune", "fine-tune a .snn model with surrogate gradients (BPTT)", runFinetune},
		{"export", "export a .snn model to another format (NIR)", runExport},
		{"bench", "time the SNN runtime (event-driven and dense) against the ANN executor", runBench},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the command line args and returns the process exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil:
			return exitOK
		case errors.Is(err, flag.ErrHelp):
			return exitOK
		}
		fmt.Fprintf(stderr, "ann2snn %s: %v\n", c.name, err)
		var ue *usageError
		var ie *inputError
		switch {
		case errors.As(err, &ue):
			return exitUsage
		case errors.As(err, &ie):
			return exitBadInput
		}
		return exitInternal
	}
	fmt.Fprintf(stderr, "ann2snn: unknown command %q (run \"ann2snn --help\")\n", args[0])
	return exitUsage
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "ann2snn converts trained ANNs (ONNX) into spiking neural networks.")
	fmt.Fprintln(w, "\nUsage:\n  ann2snn <command> [flags] [args]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun \"ann2snn <command> --help\" for a command's flags.")
	fmt.Fprintln(w, "Exit status: 0 ok, 1 usage, 2 bad input, 3 internal error.")
}

// newFlagSet returns a flag set that reports errors instead of exiting and
// prints a usage line for the command.
func newFlagSet(name, argsUsage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: ann2snn %s [flags] %s\n\nFlags:\n", name, argsUsage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, allowing flags after positional arguments
// ("eval model.onnx --data mnist"), and returns the positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
