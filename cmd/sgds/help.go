package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
	"github.com/urfave/cli/v2/altsrc"
	"gopkg.in/yaml.v3"

	"github.com/sgds/sgds/bench"
	"github.com/sgds/sgds/internal/safefile"
	runpkg "github.com/sgds/sgds/run"
)

// examples are the usage lines of each command's help.
var examples = map[string]string{
	"train": `sgds train [flags]

Examples:
  sgds train --model mlp --epochs 3                      # about a minute on a laptop CPU; writes runs/mnist-mlp-uniform-seed1
  sgds train --model mlp --sampler sgds --target-acc 0.97
  sgds train --model mlp --subset 2000 --epochs 1 --quiet  # a smoke test in seconds
  sgds train --resume runs/mnist-mlp-uniform-seed1 --epochs 5  # continue a run, or finish an interrupted one
  sgds train --config runs/mnist-mlp-uniform-seed1/summary.json --out runs/again  # re-run the same settings
  sgds train --config my-run.yaml                        # flags from YAML: "model: mlp", "kept-floor: 0.2"`,
	"compare": `sgds compare [flags]

Examples:
  sgds compare --quick                                   # the MLP, 5 epochs, 2 seeds: a few minutes
  sgds compare --model cnn --epochs 10 --seeds 1,2,3 --targets 0.98,0.99
  sgds compare --quick --method drop30:drop=0.3,mix=0.1 --method floor:kept-floor=0.5`,
	"correlate": `sgds correlate [flags]

Examples:
  sgds correlate --model mlp --epochs 1                  # writes runs/correlate/correlate.json and two plots
  sgds correlate --model cnn --samples 5000 --timing-steps 50`,
	"patterns": `sgds patterns [flags]

Examples:
  sgds patterns --model mlp                              # 5 epochs with shuffling off and on
  sgds patterns --model mlp --epochs 3 --subset 10000 --out runs/patterns-small`,
	"plot": `sgds plot DIR

Examples:
  sgds plot runs/compare                                 # redraw the plots and tables of runs/compare/compare.json`,
	"tune": `sgds tune [flags]

Examples:
  sgds tune --model mlp --subset 10000                   # writes runs/tune/tune.json for compare --tuned`,
	"merge": `sgds merge --out DIR SHARD…

Examples:
  sgds compare --shard 1/2 --out runs/s1 …; sgds compare --shard 2/2 --out runs/s2 …   # the same flags otherwise
  sgds merge --out runs/board runs/s1 runs/s2            # the comparison one process would have run`,
	"methods": `sgds methods [--markdown]

Examples:
  sgds methods                                           # every sampler, its flags, method keys, defaults and ranges
  sgds methods --markdown                                # the README's table`,
	"devices": `sgds devices

Example:
  sgds devices                                           # cpu, gorgonia, and cuda when built with -tags cuda`,
	"completion": `sgds completion bash

Examples:
  source <(sgds completion bash)                         # in this shell
  sgds completion bash > /etc/bash_completion.d/sgds     # for every shell`,
}

// bashCompletion completes sgds through urfave's --generate-bash-completion
// (EnableBashCompletion): commands, then each command's flags.
const bashCompletion = `# bash completion for sgds: source <(sgds completion bash)
_sgds_complete() {
  local cur words
  cur="${COMP_WORDS[COMP_CWORD]}"
  if [[ "$cur" == -* ]]; then
    words=$("${COMP_WORDS[@]:0:$COMP_CWORD}" "$cur" --generate-bash-completion 2>/dev/null)
  else
    words=$("${COMP_WORDS[@]:0:$COMP_CWORD}" --generate-bash-completion 2>/dev/null)
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o bashdefault -o default -F _sgds_complete sgds
`

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script (bash)",
		ArgsUsage: "bash",
		Action: func(c *cli.Context) error {
			switch shell := c.Args().First(); {
			case c.NArg() != 1:
				return fmt.Errorf("name one shell: sgds completion bash")
			case shell == "bash":
				_, err := fmt.Fprint(c.App.Writer, bashCompletion)
				return err
			default:
				return fmt.Errorf("completion for %q: only bash is supported (sgds completion bash)", shell)
			}
		},
	}
}

// MaxConfigBytes bounds a --config file.
const MaxConfigBytes = 1 << 20

func configFlag() cli.Flag {
	return &cli.StringFlag{Name: "config", EnvVars: env("config"), DefaultText: "none: flags and SGDS_* variables only",
		Usage: "read settings from `FILE`: YAML with flag names as keys (model: mlp, kept-floor: 0.2), " +
			"or a summary.json, correlate.json or patterns.json, whose configuration is run again; " +
			"flags and SGDS_* variables win over the file"}
}

// resultKeys maps the keys of a result file's "config" (run.Config,
// snake_case) to flags; the samplers' settings come from their
// descriptors (run.Setting.JSON).
var resultKeys = map[string]string{
	"dataset": "dataset", "model": "model", "device": "device", "sampler": "sampler",
	"epochs": "epochs", "batch": "batch", "lr": "lr", "momentum": "momentum", "seed": "seed", "order_seed": "order-seed",
	"val": "val", "subset": "subset", "test_subset": "test-subset", "lr_schedule": "schedule", "warmup": "warmup", "budget": "budget", "eval_every": "eval-every",
}

// rawGeneric carries a --config value to a numeric flag as its text, for
// the flag's own (decimal) parser.
type rawGeneric string

func (r *rawGeneric) Set(s string) error { *r = rawGeneric(s); return nil }
func (r *rawGeneric) String() string     { return string(*r) }

// applyConfig reads --config FILE and sets, through altsrc, every flag of
// cmd it names that neither the command line nor an SGDS_* variable set.
// The file is read as any file sgds reads (a regular file, through a
// limit); unknown keys are errors, so a misspelt setting is never ignored.
func applyConfig(c *cli.Context, cmd *cli.Command) error {
	path := c.String("config")
	if path == "" {
		return nil
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("--config %s: %s", path, fmt.Sprintf(format, args...))
	}
	b, err := safefile.ReadAll(path, MaxConfigBytes)
	if err != nil {
		return fmt.Errorf("--config: %w", err)
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&root); errors.Is(err, io.EOF) {
		return fail("empty file")
	} else if err != nil {
		if strings.Contains(err.Error(), "anchor") {
			return fail("%v: YAML aliases (*name) are not supported; write the value itself", err)
		}
		return fail("not YAML or JSON: %v", err)
	}
	if len(root.Content) == 0 {
		return fail("empty file")
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := extra.Line
		if err != nil {
			return fail("after the first YAML document: %v (a --config file holds one document)", err)
		}
		return fail("line %d: a second YAML document; a --config file holds one (remove the --- and what follows, or split the file)", line)
	}
	if err := strictYAML(&root); err != nil {
		return fail("%v", err)
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return fail("want a mapping of flag names to values (epochs: 5)")
	}
	settings, err := configSettings(c, doc)
	if err != nil {
		return fail("%v", err)
	}
	flags := map[string]cli.Flag{}
	var known []string
	for _, f := range cmd.Flags {
		if n := f.Names()[0]; n != "config" {
			flags[n] = f
			known = append(known, n)
		}
	}
	sort.Strings(known)
	values := map[any]any{}
	for _, s := range settings {
		f, ok := flags[s.flag]
		if !ok {
			if s.optional {
				continue
			}
			return fail("line %d: %q is not a flag of sgds %s (known: %s)", s.node.Line, s.key, cmd.Name, strings.Join(known, ", "))
		}
		n := s.node
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			continue
		}
		switch f.(type) {
		case *altsrc.StringSliceFlag, *cli.StringSliceFlag:
			var list []any
			switch n.Kind {
			case yaml.ScalarNode:
				list = []any{n.Value}
			case yaml.SequenceNode:
				for _, e := range n.Content {
					if e.Kind != yaml.ScalarNode {
						return fail("line %d: %s: want a list of strings", e.Line, s.key)
					}
					list = append(list, e.Value)
				}
			default:
				return fail("line %d: %s: want a string or a list of strings", n.Line, s.key)
			}
			values[s.flag] = list
			continue
		}
		if n.Kind != yaml.ScalarNode {
			return fail("line %d: %s: want a single value", n.Line, s.key)
		}
		switch f.(type) {
		case *altsrc.BoolFlag:
			v, err := strconv.ParseBool(n.Value)
			if err != nil || (n.Value != "true" && n.Value != "false") {
				return fail("line %d: --%s %q: want true or false", n.Line, s.flag, n.Value)
			}
			values[s.flag] = v
		case *altsrc.GenericFlag:
			r := rawGeneric(n.Value)
			values[s.flag] = &r
		case *altsrc.StringFlag:
			values[s.flag] = n.Value
		default:
			return fail("line %d: --%s cannot be set from a file", n.Line, s.flag)
		}
	}
	src := altsrc.NewMapInputSource(path, values)
	if err := altsrc.ApplyInputSourceValues(c, src, cmd.Flags); err != nil {
		return fail("%v", err)
	}
	// A slice flag that altsrc does not know is set here.
	for name, v := range values {
		if list, ok := v.([]any); ok {
			if _, isAlt := flags[name.(string)].(*altsrc.StringSliceFlag); isAlt || c.IsSet(name.(string)) {
				continue
			}
			for _, e := range list {
				if err := c.Set(name.(string), e.(string)); err != nil {
					return fail("%s: %v", name, err)
				}
			}
		}
	}
	return nil
}

// strictYAML refuses what YAML allows but a --config file must not
// hold, where n or any node below it has it: a key given twice (YAML
// parsers keep the last value silently) and an alias (*name), which sgds
// does not expand.
func strictYAML(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode {
		return fmt.Errorf("line %d: YAML aliases (*%s) are not supported; write the value itself", n.Line, n.Value)
	}
	if n.Kind == yaml.MappingNode {
		first := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind == yaml.AliasNode {
				return strictYAML(k)
			}
			if line, dup := first[k.Value]; dup {
				return fmt.Errorf("line %d: key %q given twice (first on line %d)", k.Line, k.Value, line)
			}
			first[k.Value] = k.Line
		}
	}
	for _, c := range n.Content {
		if err := strictYAML(c); err != nil {
			return err
		}
	}
	return nil
}

// setting is one key of a --config file and the flag it sets.
type setting struct {
	key, flag string
	node      *yaml.Node
	optional  bool // from a result file: skipped where the command lacks the flag
}

// configSettings lists the settings of a --config document: its keys, or,
// for a result file (a "config" mapping: summary.json, patterns.json,
// correlate.json), the run configuration it records.
func configSettings(c *cli.Context, doc *yaml.Node) ([]setting, error) {
	kind := resultKind(doc)
	switch kind {
	case "compare.json":
		return nil, errors.New("a compare.json (a comparison), which --config does not read: continue it with sgds compare --resume DIR, redraw it with sgds plot DIR; --config reads YAML of flags, a summary.json, correlate.json or patterns.json")
	case "tune.json":
		return nil, errors.New("a tune.json (a tuning run), which --config does not read: give it to sgds compare --tuned FILE; --config reads YAML of flags, a summary.json, correlate.json or patterns.json")
	}
	cfg := mapValue(doc, "config")
	if kind == "" || cfg == nil || cfg.Kind != yaml.MappingNode {
		var out []setting
		for i := 0; i+1 < len(doc.Content); i += 2 {
			k := doc.Content[i].Value
			out = append(out, setting{key: k, flag: k, node: doc.Content[i+1]})
		}
		return out, nil
	}
	var out []setting
	add := func(m *yaml.Node, keys map[string]string, prefix string) {
		for i := 0; i+1 < len(m.Content); i += 2 {
			k := m.Content[i].Value
			if flag, ok := keys[k]; ok && flag != "" {
				out = append(out, setting{key: prefix + k, flag: flag, node: m.Content[i+1], optional: true})
			}
		}
	}
	run := cfg
	if r := mapValue(cfg, "run"); r != nil && r.Kind == yaml.MappingNode { // correlate.json
		run = r
		add(cfg, map[string]string{"samples": "samples", "timing_steps": "timing-steps"}, "config.")
	}
	// The settings of one sampler apply only to a run of it: the sampler
	// of the command line, else the file's. (A recorded score is the sgds
	// sampler's; the other samplers refuse --score.)
	sampler := ""
	if n := mapValue(run, "sampler"); n != nil && n.Kind == yaml.ScalarNode {
		sampler = n.Value
	}
	if c.IsSet("sampler") {
		sampler = c.String("sampler")
	}
	add(run, resultKeys, "config.")
	// The sampler's own settings. Within its object (config.schedule of
	// sgds, config.kakurenbo, …) a setting the file leaves out is zero:
	// older files omitted zero values.
	if d, err := runpkg.Lookup(sampler); err == nil {
		for _, st := range d.Settings {
			object, key, nested := strings.Cut(st.JSON, ".")
			m := run
			if nested {
				if m = mapValue(run, object); m == nil || m.Kind != yaml.MappingNode {
					continue
				}
			} else {
				key = object
			}
			n := mapValue(m, key)
			if n == nil {
				if !nested || st.Kind == runpkg.KindChoice {
					continue
				}
				n = &yaml.Node{Kind: yaml.ScalarNode, Value: map[bool]string{true: "false", false: "0"}[st.Kind == runpkg.KindBool], Line: m.Line}
			}
			out = append(out, setting{key: "config." + st.JSON, flag: st.Flag, node: n, optional: true})
		}
	}
	if t := mapValue(doc, "target_acc"); t != nil {
		out = append(out, setting{key: "target_acc", flag: "target-acc", node: t, optional: true})
	}
	return out, nil
}

// resultKinds are the result files sgds writes, each told by a key of
// its own; a document is one of them when it has that key, a "config"
// and no key the file does not have (a YAML file of flags with a
// "config:" key is read as flags, so that its other keys are checked).
var resultKinds = []struct {
	name, key string
	typ       reflect.Type
}{
	{"compare.json", "runs", reflect.TypeOf(bench.CompareResult{})},
	{"tune.json", "trials", reflect.TypeOf(bench.TuneResult{})},
	{"summary.json", "epochs_done", reflect.TypeOf(runpkg.Summary{})},
	{"correlate.json", "grad_norm", reflect.TypeOf(bench.CorrelateResult{})},
	{"patterns.json", "stay", reflect.TypeOf(bench.PatternsResult{})},
}

// resultKind names the kind of result file doc is, or "" for a document
// of flags.
func resultKind(doc *yaml.Node) string {
	keys := map[string]bool{}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		keys[doc.Content[i].Value] = true
	}
	for _, k := range resultKinds {
		if !keys[k.key] || !keys["config"] {
			continue
		}
		fields := map[string]bool{}
		jsonFields(k.typ, fields)
		all := true
		for key := range keys {
			all = all && fields[key]
		}
		if all {
			return k.name
		}
	}
	return ""
}

// jsonFields adds the JSON keys of struct type t to fields, those of its
// embedded structs included.
func jsonFields(t reflect.Type, fields map[string]bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
		case name == "" && f.Anonymous && f.Type.Kind() == reflect.Struct:
			jsonFields(f.Type, fields)
		case name == "":
			fields[f.Name] = true
		default:
			fields[name] = true
		}
	}
}

// mapValue returns the value of key in mapping m, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}
