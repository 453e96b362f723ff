package bench

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Postfix is a family of processes that come and go under its master, so its CPU is
// read from /proc: each live process's own time, plus the time of the children each
// has already reaped (the master reaps every service process that exits).

// clockTick is Linux's USER_HZ, the unit of /proc/<pid>/stat times.
const clockTick = 10 * time.Millisecond

// procCPU returns a process's own CPU time and that of its reaped children.
func procCPU(pid int) (self, children time.Duration) {
	f, ok := procStat(pid)
	if !ok {
		return 0, 0
	}
	return ticks(f[11]) + ticks(f[12]), ticks(f[13]) + ticks(f[14])
}

// treeCPU is the CPU time of root and every live descendant, with reaped children.
func treeCPU(root int) time.Duration {
	kids := map[int][]int{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		if f, ok := procStat(pid); ok {
			ppid, _ := strconv.Atoi(f[1])
			kids[ppid] = append(kids[ppid], pid)
		}
	}
	var total time.Duration
	var walk func(int)
	walk = func(pid int) {
		self, children := procCPU(pid)
		total += self + children
		for _, k := range kids[pid] {
			walk(k)
		}
	}
	walk(root)
	return total
}

// procStat returns the fields of /proc/<pid>/stat after the command name: f[0] is
// the state, f[1] the parent, f[11..14] utime, stime, cutime, cstime.
func procStat(pid int) ([]string, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat") // #nosec G304 -- a /proc path built from a number
	if err != nil {
		return nil, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil, false
	}
	f := strings.Fields(s[i+1:])
	return f, len(f) > 14
}

func ticks(s string) time.Duration {
	n, _ := strconv.ParseInt(s, 10, 64)
	return time.Duration(n) * clockTick
}
