package marketing

import (
	"context"
	"testing"

	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant"
)

type env struct {
	db   *store.DB
	svc  *Service
	ten  *tenant.Service
	tid  string
	tid2 string
	path string // SQLite file, "" on PostgreSQL
}

func newEnv(t *testing.T, dbURL string) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dbURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ring, _ := seal.NewKeyring(seal.GenerateMasterKey())
	ts := tenant.New(db, ring)
	a, err := ts.Create(ctx, "clinic-a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := ts.Create(ctx, "clinic-b")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, ten: ts, svc: &Service{DB: db, Tenants: ts}, tid: a.ID, tid2: b.ID}
	if db.Dialect() == store.SQLite {
		e.path = dbURL[len("sqlite:"):]
	}
	return e
}

func (e *env) fields(t *testing.T, tid string, fs ...Field) {
	t.Helper()
	for _, f := range fs {
		if err := e.svc.AddField(context.Background(), tid, &f, nil); err != nil {
			t.Fatal(err)
		}
	}
}

func each(t *testing.T, fn func(t *testing.T, e *env)) {
	storetest.Each(t, func(t *testing.T, dbURL string) { fn(t, newEnv(t, dbURL)) })
}
