// Command ann2snn converts trained ANNs (ONNX) into spiking neural networks,
// fine-tunes and evaluates them.
//
// Usage:
//
//	ann2snn <command> [flags] [args]
//
// Commands:
//
//	inspect   print an ONNX model's layers, shapes, parameters and MACs, or a .snn model's layers, neurons, thresholds and metadata
//	convert   convert an ONNX ANN into a calibrated SNN (.snn)
//	eval      evaluate an ONNX model (ANN) or a .snn model on a data set
//	merge     combine the parts of a sharded eval (eval --shard K/N --json)
//	finetune  fine-tune a .snn model with surrogate gradients (BPTT)
//	export    export a .snn model to another format (NIR)
//	bench     time the SNN runtime (event-driven and dense) against the ANN executor
//	version   print the version of ann2snn (also --version)
//
// Run "ann2snn <command> --help" for the flags of each command.
//
// Exit status: 0 success, 1 usage error, 2 bad input (file, data, model,
// an output file or stdout that cannot be written), 3 internal error, 130
// interrupted (SIGINT or SIGTERM; finetune has written its checkpoint). A
// command stops within a second of the signal; a second signal exits at
// once.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ann2snn/ann2snn/dataset"
	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/internal/atomicfile"
	"github.com/ann2snn/ann2snn/snnrt"
)

// Exit codes, documented in the package comment and the README.
const (
	exitOK       = 0
	exitUsage    = 1
	exitBadInput = 2
	exitInternal = 3
	// exitInterrupted is the shells' 128 + SIGINT.
	exitInterrupted = 130
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

// hint returns what the user can do about err, as a suffix for its one
// line (empty where the message already says it).
func hint(err error) string {
	var (
		snnFormat  *snnrt.FormatError
		onnxFormat *importer.FormatError
		op         *importer.UnsupportedOpError
		feature    *importer.UnsupportedFeatureError
		data       *dataset.FormatError
	)
	switch {
	case errors.Is(err, context.Canceled):
		return ""
	case errors.Is(err, fs.ErrNotExist):
		return " (check the path)"
	case errors.As(err, &snnFormat), errors.Is(err, snnrt.ErrChecksum), errors.Is(err, snnrt.ErrTruncated):
		return " (not a .snn file written by ann2snn, or a damaged one: convert the model again)"
	case errors.As(err, &onnxFormat):
		return " (not a readable ONNX model, or a damaged one: export it again)"
	case errors.As(err, &op), errors.As(err, &feature):
		return " (re-export the model without it, or with a supported op in its place)"
	case errors.As(err, &data):
		return " (check the data files: the formats are under --data in docs/cli.md, section eval)"
	case errors.Is(err, atomicfile.ErrNotRegular):
		return " (choose a file name; a symbolic link is written through)"
	}
	return ""
}

// command is one subcommand: its name, one-line summary and entry point.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"inspect", "print an ONNX model's layers, shapes, params and MACs, or a .snn model's layers, neurons, θ and metadata", runInspect},
		{"convert", "convert an ONNX ANN into a calibrated SNN (.snn)", runConvert},
		{"eval", "evaluate an ONNX model (ANN) or a .snn model on a data set", runEval},
		{"merge", "combine the parts of a sharded eval (eval --shard K/N --json)", runMerge},
		{"finetune", "fine-tune a .snn model with surrogate gradients (BPTT)", runFinetune},
		{"export", "export a .snn model to another format (NIR)", runExport},
		{"calibrate-exit", "choose an adaptive-time exit policy on training images and record it in the .snn", runCalibrateExit},
		{"bench", "time the SNN runtime (event-driven and dense) against the ANN executor", runBench},
	}
}

// holds counts the sections (writing a checkpoint) that the exit after
// interruptGrace waits for; a second signal does not wait.
type holds struct {
	mu   sync.Mutex
	n    int
	zero chan struct{} // closed while n == 0; nil: not yet made
}

type holdsKey struct{}

// released returns a channel that is closed once no section is held.
func (h *holds) released() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.zero == nil {
		h.zero = make(chan struct{})
		if h.n == 0 {
			close(h.zero)
		}
	}
	return h.zero
}

// holdInterrupt marks the start of a section that the forced exit after
// an interrupt must not cut short (the process still exits at once on a
// second signal); call the returned function when it ends. Without the
// signal handling of main (tests) it does nothing.
func holdInterrupt(ctx context.Context) (release func()) {
	h, ok := ctx.Value(holdsKey{}).(*holds)
	if !ok {
		return func() {}
	}
	h.mu.Lock()
	if h.n == 0 && h.zero != nil {
		select {
		case <-h.zero:
			h.zero = make(chan struct{}) // held again: a new, open channel
		default:
		}
	}
	h.n++
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		h.n--
		if h.n == 0 && h.zero != nil {
			close(h.zero)
		}
		h.mu.Unlock()
	}
}

// interruptGrace is how long a command may take to stop after SIGINT or
// SIGTERM cancelled its context before the process exits with status 130
// regardless (once a held section, finetune's checkpoint writing, ends).
const interruptGrace = 500 * time.Millisecond

func main() {
	h := &holds{}
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), holdsKey{}, h))
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		cancel()
		select {
		case <-sig:
			fmt.Fprintln(os.Stderr, "ann2snn: interrupted again: exiting at once")
		case <-time.After(interruptGrace):
			select {
			case <-sig:
				fmt.Fprintln(os.Stderr, "ann2snn: interrupted again: exiting at once")
			case <-h.released():
				fmt.Fprintf(os.Stderr, "ann2snn: still busy %v after the interrupt: exiting\n", interruptGrace)
			}
		}
		os.Exit(exitInterrupted)
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	os.Exit(code)
}

// run executes the command line args and returns the process exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 2 && args[0] == "help" && args[1] == "--markdown" {
		writeReference(ctx, stdout)
		return exitOK
	}
	if len(args) == 0 {
		printUsage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		printUsage(stdout)
		return exitOK
	case "-version", "--version", "version":
		fmt.Fprintf(stdout, "ann2snn %s\n", toolVersion())
		return exitOK
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		ow := &errWriter{w: stdout}
		err := c.run(ctx, args[1:], ow, stderr)
		if ow.err != nil && !errors.Is(err, context.Canceled) {
			err = badInput(fmt.Errorf("writing the output: %w", ow.err))
		}
		var he *helpError
		switch {
		case err == nil:
			return exitOK
		case errors.As(err, &he):
			// --help is asked for: it goes to stdout (ann2snn eval --help | less).
			if _, werr := io.WriteString(stdout, he.text); werr != nil {
				fmt.Fprintf(stderr, "ann2snn %s: writing the output: %v\n", c.name, werr)
				return exitBadInput
			}
			return exitOK
		case errors.Is(err, flag.ErrHelp):
			return exitOK
		}
		// Ctrl-C cancels the context: say "interrupted", not "context canceled".
		msg := strings.ReplaceAll(err.Error(), context.Canceled.Error(), "interrupted")
		fmt.Fprintf(stderr, "ann2snn %s: %s%s\n", c.name, msg, hint(err))
		var ue *usageError
		var ie *inputError
		var out *atomicfile.Error // an output file that cannot be written (full disk included)
		switch {
		case errors.Is(err, context.Canceled):
			return exitInterrupted
		case errors.As(err, &ue):
			return exitUsage
		case errors.As(err, &ie), errors.As(err, &out):
			return exitBadInput
		}
		return exitInternal
	}
	fmt.Fprintf(stderr, "ann2snn: unknown command %q (run \"ann2snn --help\")\n", args[0])
	return exitUsage
}

// writeReference prints the command-line reference in Markdown, built from
// each command's own --help text (docs/cli.md is made with
// "ann2snn help --markdown").
func writeReference(ctx context.Context, w io.Writer) {
	fmt.Fprintln(w, "# ann2snn command-line reference")
	fmt.Fprintln(w, "\nGenerated by `ann2snn help --markdown`; do not edit by hand.\n\n```")
	printUsage(w)
	fmt.Fprintln(w, "```")
	for _, c := range commands() {
		var help string
		var he *helpError
		if err := c.run(ctx, []string{"--help"}, io.Discard, io.Discard); errors.As(err, &he) {
			help = he.text
		}
		fmt.Fprintf(w, "\n## %s\n\n%s.\n\n```\n%s```\n", c.name, c.summary, help)
	}
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "ann2snn converts trained ANNs (ONNX) into spiking neural networks.")
	fmt.Fprintln(w, "\nUsage:\n  ann2snn <command> [flags] [args]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "  version   print the version of ann2snn (also --version)")
	fmt.Fprintln(w, "  version   print the version of ann2snn (also --version)")
	fmt.Fprintln(w, "\nRun \"ann2snn <command> --help\" for a command's flags.")
	fmt.Fprintln(w, "Exit status: 0 ok, 1 usage, 2 bad input, 3 internal error, 130 interrupted.")
	fmt.Fprintln(w, "Output files (-o, --logits, --cpuprofile) are checked before any work and")
	fmt.Fprintln(w, "replaced atomically; only regular files are replaced: a directory, device,")
	fmt.Fprintln(w, "FIFO or socket (/dev/null included) is refused with status 2, and a symbolic")
	fmt.Fprintln(w, "link is written through (the file it names is replaced, the link kept).")
}

// helpError is what parseFlags returns for -h/--help: the command's usage
// text, which run prints on stdout with exit status 0.
type helpError struct{ text string }

func (e *helpError) Error() string { return "help requested" }
func (e *helpError) Unwrap() error { return flag.ErrHelp }

// newFlagSet returns a flag set that reports errors instead of exiting.
// Its output (fs.Output()) is stderr, for the warnings of the data flags;
// its usage text is returned by parseFlags as a *helpError, for stdout.
func newFlagSet(name, argsUsage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ann2snn %s [flags] %s\n\nFlags:\n", name, argsUsage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, allowing flags after positional arguments
// ("eval model.onnx --data mnist"), and returns the positional arguments.
// A flag error is one line naming the command and the flag (a
// *usageError); -h or --help gives a *helpError holding the usage text.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	out, usage := fs.Output(), fs.Usage
	fs.SetOutput(io.Discard) // the flag package would print the error and the whole usage
	fs.Usage = func() {}
	defer func() { fs.SetOutput(out); fs.Usage = usage }()
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				var b strings.Builder
				fs.SetOutput(&b)
				usage()
				return nil, &helpError{b.String()}
			}
			return nil, &usageError{fmt.Sprintf("%v (run 'ann2snn %s --help')", err, fs.Name())}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
