package queue

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestAcceptLogOrphans checks that a live process's log is left alone, a dead one's
// entries are found (a process dies holding its lock; closing the lock stands in for
// that), and the file stays small while outcomes are recorded.
func TestAcceptLogOrphans(t *testing.T) {
	dir := t.TempDir()
	a, err := openAcceptLog(dir, "host/1/a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openAcceptLog(dir, "host/1/a"); err == nil {
		t.Fatal("a second process opened the same log")
	}
	for job := int64(1); job <= 3; job++ {
		if err := a.accepted(job, 2); err != nil {
			t.Fatal(err)
		}
	}
	a.recorded(2)
	b, err := openAcceptLog(dir, "host/2/b")
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	if es, _, err := orphanLogs(dir, b.name); err != nil || len(es) != 0 {
		t.Fatalf("entries of a live process taken: %v, %v", es, err)
	}
	a.lock.Close() // dies without cleaning up
	a.f.Close()
	es, done, err := orphanLogs(dir, b.name)
	if err != nil {
		t.Fatal(err)
	}
	var jobs []int64
	for _, e := range es {
		jobs = append(jobs, e.Job)
	}
	slices.Sort(jobs)
	// Job 2 may still be listed (entries are only dropped on compaction): recovery
	// checks each job in the database, so a stale entry is harmless.
	if !slices.Contains(jobs, 1) || !slices.Contains(jobs, 3) {
		t.Fatalf("orphan entries %v, want jobs 1 and 3", jobs)
	}
	// Not all recorded (the database was down): the log is kept for the next try.
	done(false)
	if again, done2, err := orphanLogs(dir, b.name); err != nil || len(again) != len(es) {
		t.Fatalf("kept log read again: %d entries, %v", len(again), err)
	} else {
		done2(true)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "accepted-host_1_a.*")); len(left) != 0 {
		t.Fatalf("dead process's files left: %v", left)
	}

	// Many deliveries: the file is emptied once nothing is pending, and never grows
	// far past its limit while something is.
	b.limit = 4096
	b.accepted(999, 1)
	for job := int64(1000); job < 1500; job++ {
		b.accepted(job, 1)
		b.recorded(job)
	}
	fi, _ := os.Stat(filepath.Join(dir, b.name+".log"))
	if fi.Size() > b.limit+64 {
		t.Fatalf("log grew to %d bytes", fi.Size())
	}
	b.recorded(999)
	b.accepted(5, 1)
	b.recorded(5)
	if es, _ := readLog(filepath.Join(dir, b.name+".log")); len(es) > 2 {
		t.Fatalf("log keeps %d entries with nothing pending", len(es))
	}
}
