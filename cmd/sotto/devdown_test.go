package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// TestDevDownStopsTheRunningSuite: dev down signals the process that holds
// the state directory (here this test binary running TestFakeDevUp, which
// claims it with lockState as dev up does) and returns once it has stopped
// the way Ctrl-C stops it; a second dev up on the same state is refused
// while the first runs.
func TestDevDownStopsTheRunningSuite(t *testing.T) {
	dir := t.TempDir()
	up := exec.Command(os.Args[0], "-test.run=^TestFakeDevUp$")
	up.Env = append(os.Environ(), "SOTTO_FAKE_DEV_UP="+dir)
	out, err := up.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := up.Start(); err != nil {
		t.Fatal(err)
	}
	defer up.Process.Kill()
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "locked\n" {
		t.Fatalf("fake dev up: %q, %v", line, err)
	}
	if _, err := lockState(dir); err == nil {
		t.Error("a second dev up on a running suite's state directory was allowed")
	}
	if err := devDown(context.Background(), []string{"--state", dir}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "stopped")); err != nil {
		t.Errorf("dev up did not stop as on Ctrl-C: %v", err)
	}
	if err := up.Wait(); err != nil {
		t.Errorf("dev up exited: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, pidFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s left behind: %v", pidFile, err)
	}
	if err := devDown(context.Background(), []string{"--state", dir}, io.Discard, io.Discard); err == nil {
		t.Error("dev down with no suite running reported success")
	}
}

// TestDevDownLeavesAStalePidAlone: a pid file nobody holds (a dev up that
// was killed; its pid since reused) names a process dev down must not
// signal.
func TestDevDownLeavesAStalePidAlone(t *testing.T) {
	dir := t.TempDir()
	other := exec.Command("sleep", "60")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { other.Process.Kill(); other.Wait() }()
	if err := os.WriteFile(filepath.Join(dir, pidFile), []byte(strconv.Itoa(other.Process.Pid)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := devDown(context.Background(), []string{"--state", dir}, io.Discard, io.Discard); err == nil {
		t.Error("dev down reported stopping a suite from a stale pid file")
	}
	if err := other.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the unrelated process named by the stale file was signalled: %v", err)
	}
	// The signal is delivered asynchronously: the kill would show as the
	// exit status.
	other.Process.Kill()
	if err := other.Wait(); err == nil || err.(*exec.ExitError).Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("the unrelated process ended by %v, not by the test's SIGKILL", err)
	}
}

// TestFakeDevUp is not a test: run by TestDevDownStopsTheRunningSuite, it
// claims the state directory as dev up does and stops on SIGTERM.
func TestFakeDevUp(t *testing.T) {
	dir := os.Getenv("SOTTO_FAKE_DEV_UP")
	if dir == "" {
		t.Skip("run by TestDevDownStopsTheRunningSuite")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	release, err := lockState(dir)
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("locked\n")
	<-ctx.Done()
	if err := os.WriteFile(filepath.Join(dir, "stopped"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	release()
}
