package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// readmeCommands returns the `bin/sgds …` lines of the README's shell
// blocks, in order, with continuation lines joined and comments dropped.
func readmeCommands(t *testing.T) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cmds [][]string
	inSh, cont := false, ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```sh"):
			inSh = true
			continue
		case strings.HasPrefix(line, "```"):
			inSh = false
			continue
		case !inSh:
			continue
		}
		line = cont + strings.TrimSpace(line)
		if strings.HasSuffix(line, `\`) {
			cont = strings.TrimSuffix(line, `\`) + " "
			continue
		}
		cont = ""
		if !strings.HasPrefix(line, "bin/sgds ") {
			continue
		}
		words, err := shellWords(line)
		if err != nil {
			t.Fatalf("README: %q: %v", line, err)
		}
		cmds = append(cmds, words[1:])
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cmds
}

// shellWords splits a command line as sh does for plain words, single and
// double quotes, and drops a trailing # comment.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '#' && !inWord:
			return words, nil
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, strconv.ErrSyntax
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// shrink rewrites a README command to run in seconds: one epoch (two for
// patterns and for a resume, which must go past the run it continues), one
// seed, 500 training images evaluated once per epoch, 200 correlated
// samples, two learning rates to tune. Every other argument is kept, so the
// command's flags and their combination are what the test checks.
func shrink(args []string) []string {
	cmd := args[0]
	out := []string{cmd}
	has := map[string]bool{}
	resume := false
	for i := 1; i < len(args); i++ {
		a := args[i]
		has[a] = true
		if a == "--resume" {
			resume = true
		}
		if i+1 < len(args) && strings.HasPrefix(a, "--") {
			switch a {
			case "--epochs":
				e := "1"
				switch cmd {
				case "patterns":
					e = "2"
				case "tune": // SGD-S must reach its steady state (tune refuses it otherwise)
					e = "4"
				}
				out = append(out, a, e)
				i++
				continue
			case "--seeds":
				out = append(out, a, "1")
				i++
				continue
			case "--samples":
				out = append(out, a, "200")
				i++
				continue
			case "--subset":
				out = append(out, a, "500")
				i++
				continue
			}
		}
		out = append(out, a)
	}
	switch cmd {
	case "train", "compare", "tune", "correlate", "patterns":
		if !has["--subset"] && !resume {
			out = append(out, "--subset", "500")
		}
		if (cmd == "train" || cmd == "compare") && !resume {
			out = append(out, "--eval-every", "500")
		}
		if cmd == "tune" {
			out = append(out, "--lrs", "0.05,0.1", "--momenta", "0.5")
		}
		if resume {
			for i := range out {
				if out[i] == "--epochs" {
					out[i+1] = "2"
				}
			}
		}
		out = append(out, "--quiet")
	}
	return out
}

// TestReadmeCommands runs every `bin/sgds` command of the README, in
// order, shrunk to a few seconds each, in one scratch folder (so that a
// resume finds the run before it): each must exit 0.
func TestReadmeCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every README command through the binary")
	}
	cmds := readmeCommands(t)
	if len(cmds) < 8 {
		t.Fatalf("found %d sgds commands in the README, want the train and experiment examples", len(cmds))
	}
	dir := t.TempDir()
	for _, c := range cmds {
		args := shrink(c)
		t.Logf("sgds %s", strings.Join(args, " "))
		start := time.Now()
		cmd := exec.Command(sgdsBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "SGDS_TEST_SUBSET=500") // evaluate on 500 test images
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("sgds %s: %v after %.1fs\n%s", strings.Join(args, " "), err, time.Since(start).Seconds(), out)
		}
		t.Logf("  %.1fs", time.Since(start).Seconds())
	}
}

func TestShrink(t *testing.T) {
	got := strings.Join(shrink([]string{"train", "--model", "cnn", "--epochs", "3", "--out", "runs/x"}), " ")
	if got != "train --model cnn --epochs 1 --out runs/x --subset 500 --eval-every 500 --quiet" {
		t.Errorf("shrink: %s", got)
	}
	got = strings.Join(shrink([]string{"train", "--resume", "runs/x", "--epochs", "4"}), " ")
	if got != "train --resume runs/x --epochs 2 --quiet" {
		t.Errorf("shrink of a resume: %s", got)
	}
	w, err := shellWords(`compare --method "a:b=1,c=2" --x 'y z' # comment`)
	if err != nil || strings.Join(w, "|") != "compare|--method|a:b=1,c=2|--x|y z" {
		t.Errorf("shellWords: %q, %v", w, err)
	}
}
