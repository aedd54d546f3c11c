package devsuite

// Reading a running suite process's memory, for tests that show a value
// never reached it (the gateway relaying sealed messages): shared by
// test/e2e and test/browser.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// ChildNamed finds the process named name among the descendants of pid.
func ChildNamed(t testing.TB, pid int, name string) int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		procUnreadable(t, "/proc", err)
	}
	parent := map[int]int{}
	comm := map[int]string{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		open, close := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
		if open < 0 || close < open {
			continue
		}
		f := strings.Fields(string(stat[close+1:]))
		if len(f) < 2 {
			continue
		}
		pp, _ := strconv.Atoi(f[1])
		parent[p], comm[p] = pp, string(stat[open+1:close])
	}
	for p, c := range comm {
		if c != name {
			continue
		}
		for a := parent[p]; a > 1; a = parent[a] {
			if a == pid {
				return p
			}
		}
	}
	t.Fatalf("no process %q under %d", name, pid)
	return 0
}

// ProcessMemory reads every readable mapping of pid (heap, stacks, freed
// memory not yet reused), as a debugger would.
func ProcessMemory(t testing.TB, pid int) []byte {
	t.Helper()
	maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		procUnreadable(t, "the process's memory map", err)
	}
	mem, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		procUnreadable(t, "the process's memory", err)
	}
	defer mem.Close()
	var all []byte
	buf := make([]byte, 1<<20)
	for _, line := range strings.Split(string(maps), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[1][0] != 'r' || (len(f) >= 6 && strings.HasPrefix(f[5], "[v")) {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if !ok || err1 != nil || err2 != nil {
			continue
		}
		for off := start; off < end; off += uint64(len(buf)) {
			n, err := mem.ReadAt(buf[:min(uint64(len(buf)), end-off)], int64(off))
			all = append(all, buf[:n]...)
			if err != nil && !errors.Is(err, io.EOF) {
				break
			}
		}
	}
	if len(all) < 1<<20 {
		t.Fatalf("read only %d bytes of the process's memory", len(all))
	}
	return all
}

// procUnreadable skips where a process's memory cannot be read (no /proc, or
// ptrace restrictions), except in CI, which must run the search.
func procUnreadable(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("cannot read %s: %v", what, err)
	}
	t.Skipf("cannot read %s: %v", what, err)
}
