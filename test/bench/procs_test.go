package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Where the CPU goes, per process, read from /proc (Linux; elsewhere the
// figures are simply absent). Vault, tokenvault, audit and this test's
// clients share the machine's cores, so CPU time per operation says more
// than wall time which process is the bottleneck.

// clockTick is USER_HZ, 100 on every Linux platform Go supports.
const clockTick = 10 * time.Millisecond

// procs are the processes to account, by name.
type procs map[string]int

// findProcs finds the suite's services (children of `sotto dev up`, pid
// devUp), vault (a child of this process) and this process.
func findProcs(devUp int) procs {
	p := procs{"client": os.Getpid()}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, ppid, _, ok := readStat(pid)
		if !ok {
			continue
		}
		switch {
		case ppid == devUp && comm != "":
			p[comm] = pid // every service of the suite
		case ppid == os.Getpid() && comm == "vault":
			p["vault"] = pid
		}
	}
	return p
}

// readStat returns a process's command name, parent and CPU time (user and
// system).
func readStat(pid int) (comm string, ppid int, cpu time.Duration, ok bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return "", 0, 0, false
	}
	s := string(b)
	open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || close < open {
		return "", 0, 0, false
	}
	comm = s[open+1 : close]
	f := strings.Fields(s[close+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return "", 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return comm, ppid, time.Duration(utime+stime) * clockTick, true
}

// machineBusy is the machine's total non-idle CPU time, every process
// included (the other work sharing the machine too), and the time the
// hypervisor ran other guests on its CPUs instead (steal).
func machineBusy() (busy, stolen time.Duration, ok bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0, false
	}
	var ticks, steal int64
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		switch {
		case i == 3 || i == 4: // idle, iowait
		case i < 7:
			ticks += n
		case i == 7:
			steal = n
		}
		// guest time (after steal) is already in user
	}
	return time.Duration(ticks) * clockTick, time.Duration(steal) * clockTick, true
}

// cpuSnapshot is CPU time per process name, plus "machine".
type cpuSnapshot map[string]time.Duration

func (p procs) snapshot() cpuSnapshot {
	s := cpuSnapshot{}
	for name, pid := range p {
		if _, _, cpu, ok := readStat(pid); ok {
			s[name] = cpu
		}
	}
	if busy, stolen, ok := machineBusy(); ok {
		s["machine"], s["stolen"] = busy, stolen
	}
	return s
}

func (s cpuSnapshot) since(before cpuSnapshot) cpuSnapshot {
	d := cpuSnapshot{}
	for k, v := range s {
		if b, ok := before[k]; ok {
			d[k] = v - b
		}
	}
	return d
}

// profiler records a perf profile of the named processes during one
// measurement when SOTTO_BENCH_PERF names a directory (and perf works).
type profiler struct {
	t    *testing.T
	dir  string
	pids string
}

func newProfiler(t *testing.T, p procs, names ...string) *profiler {
	dir := os.Getenv("SOTTO_BENCH_PERF")
	if dir == "" {
		return nil
	}
	if _, err := exec.LookPath("perf"); err != nil {
		t.Logf("SOTTO_BENCH_PERF is set but perf is not installed: no profiles")
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var pids []string
	for _, name := range names {
		if pid, ok := p[name]; ok {
			pids = append(pids, strconv.Itoa(pid))
		}
	}
	return &profiler{t: t, dir: dir, pids: strings.Join(pids, ",")}
}

// start begins a profile named name; the returned function ends it.
func (pr *profiler) start(name string) func() {
	if pr == nil {
		return func() {}
	}
	out := filepath.Join(pr.dir, name+".perf.data")
	cmd := exec.Command("perf", "record", "-F", "499", "-g", "-p", pr.pids, "-o", out)
	if err := cmd.Start(); err != nil {
		pr.t.Logf("perf: %v", err)
		return func() {}
	}
	time.Sleep(300 * time.Millisecond) // let perf attach
	return func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		_ = cmd.Wait()
		pr.t.Logf("  profile: %s", out)
	}
}
