package bench

import (
	"context"
	"database/sql"
	neturl "net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/store/storetest"
)

// A run on a PostgreSQL of this machine finds its main process, whose CPU it reports
// beside the server's; the schema it made is gone afterwards.
func TestFreshSchemaFindsALocalPostgres(t *testing.T) {
	base := storetest.PostgresURL(t) // skips (or, in CI, fails) without a server
	url, drop, pm, err := freshSchema(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	if pm == 0 {
		drop()
		t.Fatal("the local PostgreSQL's main process was not found")
	}
	comm, _ := os.ReadFile("/proc/" + strconv.Itoa(pm) + "/comm")
	if strings.TrimSpace(string(comm)) != "postgres" {
		t.Errorf("process %d is %q, not postgres", pm, comm)
	}
	if treeCPU(pm) <= 0 {
		t.Errorf("no CPU time read for PostgreSQL (process %d)", pm)
	}
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	schema := u.Query().Get("search_path")
	if !strings.HasPrefix(schema, "bench_") {
		t.Errorf("the run's URL names schema %q", schema)
	}
	var n int
	count := func(db *sql.DB) {
		t.Helper()
		if err := db.QueryRow("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = $1", schema).Scan(&n); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if count(db); n != 1 {
		t.Errorf("schema %s not made for the run", schema)
	}
	drop()
	if count(db); n != 0 {
		t.Errorf("schema %s still there after the run", schema)
	}
}
