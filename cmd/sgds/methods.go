package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sgds/sgds/run"
)

func methodsCommand() *cli.Command {
	return &cli.Command{
		Name:  "methods",
		Usage: "list the sampling methods with their settings: train's flags, the keys of compare's --method, defaults and ranges",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "markdown", Usage: "print a Markdown table (the README's)"}},
		Action: func(c *cli.Context) error {
			if c.Bool("markdown") {
				_, err := io.WriteString(c.App.Writer, methodsMarkdown())
				return err
			}
			return writeMethods(c.App.Writer)
		},
	}
}

// settingDefault is the text of st's default for d.
func settingDefault(d *run.Descriptor, st *run.Setting) string {
	if st.Required {
		return "required"
	}
	var s run.Sampling
	d.Reset(&s)
	return fmt.Sprint(st.Get(&s))
}

// writeMethods prints every method and its settings (run.Methods).
func writeMethods(w io.Writer) error {
	for i := range run.Methods {
		d := &run.Methods[i]
		fmt.Fprintf(w, "%s\n  %s\n", d.Name, d.Summary)
		for j := range d.Settings {
			st := &d.Settings[j]
			fmt.Fprintf(w, "  --%-18s %-14s default %-9s %s\n", st.Flag, st.Key+"=", settingDefault(d, st), st.Range())
		}
	}
	_, err := fmt.Fprintln(w, "\nsgds train --help shows each flag's meaning; compare and tune take the keys in --method NAME:key=value,…")
	return err
}

// methodsMarkdown is the README's table of the methods (sgds methods
// --markdown).
func methodsMarkdown() string {
	var b strings.Builder
	b.WriteString("| method | what it does | settings: train flag (`--method` key), default, range |\n|---|---|---|\n")
	for i := range run.Methods {
		d := &run.Methods[i]
		var sets []string
		for j := range d.Settings {
			st := &d.Settings[j]
			sets = append(sets, fmt.Sprintf("`--%s` (`%s=`) %s, %s", st.Flag, st.Key, settingDefault(d, st), strings.ReplaceAll(st.Range(), "|", "\\|")))
		}
		if len(sets) == 0 {
			sets = []string{"none"}
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", d.Name, d.Summary, strings.Join(sets, "; "))
	}
	return b.String()
}
