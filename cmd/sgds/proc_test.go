package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// This file runs the binary the CLI tests built (sgdsBin, see TestMain):
// to its end, under a timeout, or started and then signalled.

// sgdsCommand is the binary's command for args, with SGDS_QUIET=1,
// SGDS_TEST_SUBSET=500 (runs evaluate on 500 test images: what the tests
// check does not need the whole test set) and env added to the
// environment, killed when ctx is done.
func sgdsCommand(ctx context.Context, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, sgdsBin, args...)
	cmd.Env = append(append(os.Environ(), "SGDS_QUIET=1", "SGDS_TEST_SUBSET=500"), env...)
	return cmd
}

// exitCode returns the exit code of a command that returned err from Run
// or Wait; an error other than a non-zero exit fails the test.
func exitCode(t *testing.T, err error) int {
	t.Helper()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

// runSGDS runs the binary and returns its exit code and combined output.
func runSGDS(t *testing.T, args ...string) (int, string) {
	t.Helper()
	out, err := sgdsCommand(context.Background(), nil, args...).CombinedOutput()
	return exitCode(t, err), string(out)
}

// result is the outcome of one run of the binary.
type result struct {
	code   int
	out    string
	maxRSS int64 // peak resident set size in bytes (ru_maxrss)
	hung   bool
}

// runBounded runs the binary with args and extra environment variables
// under a timeout, and reports its exit code, combined output and peak
// memory.
func runBounded(t *testing.T, timeout time.Duration, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := sgdsCommand(ctx, env, args...)
	out, err := cmd.CombinedOutput()
	r := result{out: string(out), hung: ctx.Err() != nil, code: exitCode(t, err)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSS = ru.Maxrss * 1024 // kilobytes on Linux
	}
	return r
}

// startSGDS starts the binary and returns it with a reader of its stderr.
func startSGDS(t *testing.T, args ...string) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	cmd := sgdsCommand(context.Background(), nil, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, bufio.NewReader(stderr)
}

// waitExit waits at most d for cmd to exit and returns its exit code.
func waitExit(t *testing.T, cmd *exec.Cmd, d time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return exitCode(t, err)
	case <-time.After(d):
		cmd.Process.Kill()
		t.Fatalf("still running %v after the signal", d)
		return -1
	}
}

// interrupt sends SIGINT to cmd, started by startSGDS with stderr, and
// returns its exit code (failing the test if it runs on for 2 s), the
// rest of its stderr, and the time from the signal to both.
func interrupt(t *testing.T, cmd *exec.Cmd, stderr *bufio.Reader) (code int, msg string, took time.Duration) {
	t.Helper()
	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	rest := make(chan string, 1)
	go func() {
		var b strings.Builder
		stderr.WriteTo(&b)
		rest <- b.String()
	}()
	code = waitExit(t, cmd, 2*time.Second)
	msg = <-rest
	return code, msg, time.Since(start)
}

// waitForFile polls until path exists.
func waitForFile(t *testing.T, path string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not appear within %v", path, timeout)
}
