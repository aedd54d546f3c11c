package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// pidFile names the running `sotto dev up` in its state directory. The
// process holds an exclusive lock on it while it runs, so a file left by
// one that was killed (its pid perhaps reused by an unrelated process) is
// told apart from a live suite: only a locked file's pid is signalled.
const pidFile = "dev.pid"

// lockState claims dir for this process: a second `dev up` on the same
// state (databases, keyrings) is refused. release unlocks and removes the
// file; the kernel unlocks it too if the process dies.
func lockState(dir string) (release func(), err error) {
	path := filepath.Join(dir, pidFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("a suite is already running from %s (%s): stop it with `sotto dev down --state %s`", dir, path, dir)
	}
	if err := f.Truncate(0); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		os.Remove(path)
		f.Close()
	}, nil
}

// downWait bounds how long dev down waits: dev up gives each service
// stopGrace after SIGTERM, and stops them in turn at worst.
const downWait = 3 * stopGrace

// devDown stops the suite `sotto dev up --state DIR` runs, as Ctrl-C in its
// terminal would (SIGTERM: services stopped, state file removed), and
// waits until that process has exited.
func devDown(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sotto dev down", flag.ContinueOnError)
	fs.SetOutput(stderr)
	state := fs.String("state", ".sotto", "state directory of the running `sotto dev up`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := filepath.Abs(*state)
	if err != nil {
		return err
	}
	f, err := os.Open(filepath.Join(dir, pidFile))
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no suite is running from %s", dir)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if held := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); held == nil {
		// Nobody holds it: a dev up that was killed left the file. Its
		// pid is not ours to signal.
		return fmt.Errorf("no suite is running from %s (%s is left from one that did not stop cleanly)", dir, pidFile)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return fmt.Errorf("%s: not a process ID", filepath.Join(dir, pidFile))
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return fmt.Errorf("stopping the suite (pid %d): %w", pid, err)
	}
	fmt.Fprintf(stdout, "stopping the suite (pid %d)...\n", pid)
	ctx, cancel := context.WithTimeout(ctx, downWait)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB) != nil {
		select {
		case <-ctx.Done():
			return fmt.Errorf("the suite (pid %d) has not stopped after %s", pid, downWait)
		case <-tick.C:
		}
	}
	fmt.Fprintln(stdout, "stopped.")
	return nil
}
