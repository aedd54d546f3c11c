package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSupervisorStartsNothingAfterStop: a service in a crash loop is not
// started again once the suite stops, and stopAll returns (before, a
// restart due during the stop started an orphan and stopAll never returned).
func TestSupervisorStartsNothingAfterStop(t *testing.T) {
	dir := t.TempDir()
	starts := filepath.Join(dir, "starts")
	bin := filepath.Join(dir, "crasher")
	script := "#!/bin/sh\necho start >> " + starts + "\nexit 1\n"
	if err := os.WriteFile(bin, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	s := newSupervisor(io.Discard, true)
	p := &devProc{name: "crasher", bin: bin, log: filepath.Join(dir, "crasher.log")}
	s.procs = append(s.procs, p)
	if err := s.spawn(p); err != nil {
		t.Fatal(err)
	}
	s.wg.Add(1)
	go s.keepAlive(context.Background(), p)
	// Let it crash and be restarted at least once.
	for count(t, starts) < 2 {
		time.Sleep(50 * time.Millisecond)
	}
	stopped := make(chan struct{})
	go func() { s.stopAll(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(30 * time.Second):
		t.Fatal("stopAll did not return: a restart raced the stop")
	}
	n := count(t, starts)
	time.Sleep(2 * restartMin) // longer than the next restart would have waited
	if got := count(t, starts); got != n {
		t.Errorf("started %d more time(s) after the suite stopped", got-n)
	}
	if err := s.spawn(p); err == nil {
		t.Error("spawn after stopAll started a process")
	}
}

func count(t *testing.T, path string) int {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "start")
}
