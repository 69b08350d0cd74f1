package main

import (
	"fmt"
	"strings"

	"github.com/sgds/sgds/run"
	"github.com/urfave/cli/v2"
)

// The flags of the sampling methods, derived from their descriptors
// (run.Methods), and how a command reads them.

// samplerFlags are --sampler, the settings of every sampler whose
// descriptor keep accepts (run.Methods: their flags, defaults and help) and
// --val.
func samplerFlags(keep func(d *run.Descriptor) bool) []cli.Flag {
	flags := []cli.Flag{stringFlag("sampler", "uniform", "sample order `NAME`: "+strings.Join(run.Samplers(), ", ")+
		" (sgds methods describes each); a sampler reads only its own settings, listed below by sampler (e.g. --drop for sgds, --kakurenbo-hide for kakurenbo)")}
	for i := range run.Methods {
		d := &run.Methods[i]
		if keep(d) {
			flags = append(flags, settingFlags(d)...)
		}
	}
	return append(flags, intFlag("val", 0, "hold out the last `N` training images as a validation set; targets then use validation accuracy (0: no validation set)"))
}

// settingFlags are the flags of d's settings, with d's defaults.
func settingFlags(d *run.Descriptor) []cli.Flag {
	var def run.Sampling
	d.Reset(&def)
	var flags []cli.Flag
	for i := range d.Settings {
		st := &d.Settings[i]
		usage := d.Name + ": " + st.Usage
		switch st.Kind {
		case run.KindFloat:
			flags = append(flags, floatFlag(st.Flag, st.Get(&def).(float64), usage))
		case run.KindInt:
			flags = append(flags, intFlag(st.Flag, st.Get(&def).(int), usage))
		case run.KindBool:
			if st.Get(&def).(bool) {
				flags = append(flags, boolFlagOn(st.Flag, usage))
			} else {
				flags = append(flags, boolFlag(st.Flag, usage))
			}
		case run.KindChoice:
			flags = append(flags, stringFlag(st.Flag, st.Get(&def).(string), usage))
		}
	}
	return flags
}

// isSGDS keeps the sgds sampler's settings (compare and tune: the base
// schedule of their sgds methods).
func isSGDS(d *run.Descriptor) bool { return d.Name == "sgds" }

// flagsSet returns, as --name, those of names set on the command line, in
// an SGDS_* variable or by --config.
func flagsSet(c *cli.Context, names []string) []string {
	var set []string
	for _, k := range names {
		if c.IsSet(k) {
			set = append(set, "--"+k)
		}
	}
	return set
}

// settingValue is the value of setting st's flag.
func settingValue(c *cli.Context, st *run.Setting) any {
	switch st.Kind {
	case run.KindFloat:
		return c.Float64(st.Flag)
	case run.KindInt:
		return c.Int(st.Flag)
	case run.KindBool:
		return c.Bool(st.Flag)
	}
	return c.String(st.Flag)
}

// samplingFrom reads sampler name's settings from their flags (those not
// given keep their defaults) and refuses the flags of another sampler's
// settings that were given.
func samplingFrom(c *cli.Context, name string) (run.Sampling, error) {
	s := run.Sampling{Sampler: name}
	has := map[string]bool{}
	for _, n := range c.Command.Flags {
		has[n.Names()[0]] = true
	}
	for i := range run.Methods {
		d := &run.Methods[i]
		var names []string
		for _, st := range d.Settings {
			if has[st.Flag] {
				names = append(names, st.Flag)
			}
		}
		if d.Name != name {
			if set := flagsSet(c, names); len(set) > 0 {
				return s, fmt.Errorf("%s: only the %s sampler reads %s, this run uses --sampler %s (add --sampler %s, or leave %s out)",
					strings.Join(set, ", "), d.Name, map[bool]string{true: "them", false: "it"}[len(set) > 1], name, d.Name, strings.Join(set, ", "))
			}
			continue
		}
		d.Reset(&s)
		for j := range d.Settings {
			if st := &d.Settings[j]; has[st.Flag] {
				st.Set(&s, settingValue(c, st))
			}
		}
	}
	return s, nil
}
