// Command sgds trains neural networks with loss-proportional importance
// sampling (SGD-S) and runs the experiments that measure it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/sgds/sgds/cuda"
	"github.com/sgds/sgds/engine"
	_ "github.com/sgds/sgds/engine/cpu"      // registers the "cpu" backend (our kernels)
	_ "github.com/sgds/sgds/engine/gorgonia" // registers the "gorgonia" backend (autodiff oracle)
	_ "github.com/sgds/sgds/engine/gpu"      // registers the "cuda" backend (GPU builds; the host driver otherwise)
	"github.com/sgds/sgds/internal/provenance"
	"github.com/sgds/sgds/kernels"
)

// version is set by build.sh through -ldflags.
var version = "dev"

// started is when this process started (the provenance's start time).
var started = time.Now()

func main() {
	os.Exit(sgds(os.Args))
}

// sgds executes the command line and returns the process exit code.
func sgds(args []string) int {
	provenance.Version = version
	// SIGINT, SIGTERM and SIGHUP (a closed terminal) stop a run alike,
	// saving the step reached. A closed stdout (sgds … | head) makes
	// writes fail with EPIPE instead of killing the process: an epoch's
	// checkpoint and results are written before its line is printed, and
	// the run ends with the write's error.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	go func() {
		// The first signal cancels ctx: every loop and every wait checks it
		// and stops, saying what it saved. A second signal exits at once;
		// files are written atomically, so the last finished checkpoint and
		// results survive.
		<-ctx.Done()
		stop()
	}()
	app := newApp()
	if err := app.RunContext(ctx, args); err != nil {
		endLine(os.Stderr)
		fmt.Fprintf(os.Stderr, "sgds: %v\n", err)
		if errors.Is(err, context.Canceled) {
			return 130
		}
		return 1
	}
	return 0
}

func init() {
	cli.FlagStringer = flagString(cli.FlagStringer)
}

func newApp() *cli.App {
	app := &cli.App{
		Name:    "sgds",
		Usage:   "train neural networks faster by learning what to learn and when",
		Version: version,
		Description: "Every flag can also be set by an SGDS_* environment variable " +
			"(the flag's name in capitals, dashes as underscores: --target-acc ↔ SGDS_TARGET_ACC), " +
			"or by a --config FILE; the command line wins over the variables, which win over the file. " +
			"Integers are decimal everywhere (010 is an error, not eight).\n\n" +
			"Shell completion (bash): source <(sgds completion bash)",
		UsageText: "sgds COMMAND [flags]\n" +
			"sgds help COMMAND\n\n" +
			"Examples:\n" +
			"  sgds train --model mlp --epochs 3\n" +
			"  sgds compare --quick\n" +
			"  sgds devices",
		EnableBashCompletion: true,
		// --method specs contain commas: repeat the flag instead.
		DisableSliceFlagSeparator: true,
		Commands: []*cli.Command{
			trainCommand(),
			correlateCommand(),
			compareCommand(),
			patternsCommand(),
			plotCommand(),
			mergeCommand(),
			tuneCommand(),
			methodsCommand(),
			devicesCommand(),
			completionCommand(),
		},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return fmt.Errorf("unknown command %q (commands: %s; see sgds help)", c.Args().First(), strings.Join(commandNames(c.App), ", "))
			}
			return cli.ShowAppHelp(c)
		},
	}
	for _, cmd := range app.Commands {
		setupCommand(cmd)
	}
	app.Before = func(c *cli.Context) error {
		warnUnknownVariables(c.App.ErrWriter, c.App, os.Environ())
		return nil
	}
	return app
}

// otherVariables are the SGDS_* variables sgds reads that are not a
// flag's.
var otherVariables = []string{"SGDS_MEMORY_BUDGET", "SGDS_KERNELS", "SGDS_CUDA_DEVICE", "SGDS_CUDA_DRIVER",
	"SGDS_TEST_SIGNAL_AFTER_STEPS", "SGDS_LOCK_DIR"}

// warnUnknownVariables warns on w about every SGDS_* variable of env that
// sgds does not read — neither a flag's (of any command) nor one of
// otherVariables — naming the closest known one: a misspelt variable is
// never silently ignored.
func warnUnknownVariables(w io.Writer, app *cli.App, env []string) {
	known := map[string]bool{}
	for _, v := range otherVariables {
		known[v] = true
	}
	for _, cmd := range app.Commands {
		for _, f := range cmd.Flags {
			if ev, ok := f.(interface{ GetEnvVars() []string }); ok {
				for _, v := range ev.GetEnvVars() {
					known[v] = true
				}
			}
		}
	}
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "SGDS_") || known[name] {
			continue
		}
		best, dist := "", 4
		for k := range known {
			if d := editDistance(name, k); d < dist || d == dist && k < best {
				best, dist = k, d
			}
		}
		hint := ""
		if best != "" {
			hint = fmt.Sprintf(" (did you mean %s?)", best)
		}
		fmt.Fprintf(w, "sgds: warning: %s is not a variable sgds reads; it is ignored%s\n", name, hint)
	}
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// commandNames lists the visible commands of app.
func commandNames(app *cli.App) []string {
	var names []string
	for _, c := range app.VisibleCommands() {
		names = append(names, c.Name)
	}
	return names
}

// setupCommand gives every command the same conventions: flags in help
// categories, examples in its help, a --config FILE for commands with
// flags, usage errors without the help dump, and no positional argument.
func setupCommand(cmd *cli.Command) {
	if len(cmd.Flags) > 0 {
		cmd.Flags = append(cmd.Flags, configFlag())
	}
	categorise(cmd.Flags)
	if ex := examples[cmd.Name]; ex != "" && cmd.UsageText == "" {
		cmd.UsageText = ex
	}
	cmd.OnUsageError = func(c *cli.Context, err error, _ bool) error {
		return fmt.Errorf("%w (see sgds %s --help)", err, cmd.Name)
	}
	before := cmd.Before
	cmd.Before = func(c *cli.Context) error {
		if err := noArguments(c, cmd); err != nil {
			return err
		}
		if err := applyConfig(c, cmd); err != nil {
			return err
		}
		if before != nil {
			return before(c)
		}
		return nil
	}
}

// noArguments refuses positional arguments: urfave stops reading flags at
// the first one, so every flag after it would be silently ignored.
func noArguments(c *cli.Context, cmd *cli.Command) error {
	if !c.Args().Present() || cmd.ArgsUsage != "" {
		return nil
	}
	rest := c.Args().Slice()
	msg := fmt.Sprintf("unexpected argument %q: sgds %s takes flags only", rest[0], cmd.Name)
	if len(rest) > 1 {
		msg += fmt.Sprintf(" (the %d words after it, flags included, were not read)", len(rest)-1)
	}
	return errors.New(msg + "; see sgds " + cmd.Name + " --help")
}

func devicesCommand() *cli.Command {
	return &cli.Command{
		Name:  "devices",
		Usage: "list the backends built into this binary",
		Action: func(c *cli.Context) error {
			ok, _ := builtInBackends()
			for _, name := range ok {
				switch name {
				case "cuda":
				case "cpu":
					fmt.Fprintf(c.App.Writer, "cpu\tbuilt in, kernel path %s (this CPU: %s; %s forces one)\n",
						kernels.Path(), strings.Join(kernels.Paths(), ", "), kernels.EnvVar)
				default:
					fmt.Fprintf(c.App.Writer, "%s\tbuilt in\n", name)
				}
			}
			if _, err := engine.LookupBackend("cuda"); err != nil {
				fmt.Fprintf(c.App.Writer, "cuda\tnot built in (make cuda builds bin/sgds-cuda with -tags cuda)\n")
				return nil
			}
			devs, err := cuda.Devices()
			if err != nil {
				return fmt.Errorf("listing GPUs: %w", err)
			}
			for _, d := range devs {
				fmt.Fprintf(c.App.Writer, "cuda:%d\t%s, %.1f GiB, compute %d.%d, %d SMs\n",
					d.Ordinal, d.Name, float64(d.TotalMem)/(1<<30), d.Major, d.Minor, d.SMs)
			}
			return nil
		},
	}
}

// logTo returns w, or io.Discard with --quiet.
func logTo(c *cli.Context, w io.Writer) io.Writer {
	if c.Bool("quiet") {
		return io.Discard
	}
	return w
}

// signalAfterSteps is the test hook SGDS_TEST_SIGNAL_AFTER_STEPS=K[:SIG]:
// after the K-th training step of this process it sends itself SIGINT (or
// SIG: INT, TERM, HUP or KILL), so that tests of interrupts, kills and
// resumes stop a run at a known step instead of racing a timer. Nil when
// the variable is not set; an invalid value is reported once on stderr and
// ignored.
var signalAfterSteps = func() func() {
	v := os.Getenv("SGDS_TEST_SIGNAL_AFTER_STEPS")
	if v == "" {
		return nil
	}
	n, name, _ := strings.Cut(v, ":")
	k, err := strconv.Atoi(n)
	sig, ok := map[string]syscall.Signal{"": syscall.SIGINT, "INT": syscall.SIGINT, "TERM": syscall.SIGTERM, "HUP": syscall.SIGHUP, "KILL": syscall.SIGKILL}[name]
	if err != nil || k < 1 || !ok {
		fmt.Fprintf(os.Stderr, "sgds: SGDS_TEST_SIGNAL_AFTER_STEPS=%q ignored: want K[:INT|TERM|HUP|KILL] with K ≥ 1\n", v)
		return nil
	}
	var steps atomic.Int64
	return func() {
		if steps.Add(1) == int64(k) {
			syscall.Kill(os.Getpid(), sig)
		}
	}
}()
