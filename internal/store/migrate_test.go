package store

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadMigrations(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	cases := []struct {
		name    string
		files   fstest.MapFS
		sqlite  []string // expected SQL per version, "" = want an error
		postgre []string
	}{
		{"shared and split", fstest.MapFS{
			"migrations/0001_init.sql":       file("shared"),
			"migrations/0002_x.sqlite.sql":   file("lite"),
			"migrations/0002_x.postgres.sql": file("pg"),
			"migrations/0003_more.sql":       file("more"),
			"migrations/README.txt":          file("ignored"),
		}, []string{"shared", "lite", "more"}, []string{"shared", "pg", "more"}},
		{"gap", fstest.MapFS{"migrations/0001_a.sql": file("a"), "migrations/0003_c.sql": file("c")}, nil, nil},
		{"split missing a dialect", fstest.MapFS{"migrations/0001_a.sqlite.sql": file("a")}, nil, nil},
		{"shared and split for one version", fstest.MapFS{
			"migrations/0001_a.sql": file("a"), "migrations/0001_a.postgres.sql": file("b"), "migrations/0001_a.sqlite.sql": file("c"),
		}, nil, nil},
		{"duplicate version", fstest.MapFS{"migrations/0001_a.sql": file("a"), "migrations/001_b.sql": file("b")}, nil, nil},
		{"no version", fstest.MapFS{"migrations/init.sql": file("a")}, nil, nil},
		{"zero version", fstest.MapFS{"migrations/0000_init.sql": file("a")}, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, d := range []struct {
				name string
				want []string
			}{{DriverSQLite, tc.sqlite}, {DriverPostgres, tc.postgre}} {
				ms, err := loadMigrations(tc.files, d.name)
				if d.want == nil {
					if err == nil {
						t.Errorf("%s: loaded %d migrations, want an error", d.name, len(ms))
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", d.name, err)
				}
				var got []string
				for i, m := range ms {
					if m.version != i+1 {
						t.Errorf("%s: migration %d has version %d", d.name, i, m.version)
					}
					got = append(got, m.sql)
				}
				if strings.Join(got, "|") != strings.Join(d.want, "|") {
					t.Errorf("%s: got %q, want %q", d.name, got, d.want)
				}
			}
		})
	}
}

// The embedded migrations themselves must load for both dialects (a build-time mistake otherwise
// only shows when someone opens a database).
func TestEmbeddedMigrationsLoad(t *testing.T) {
	for _, d := range []string{DriverSQLite, DriverPostgres} {
		if ms, err := loadMigrations(migrationFiles, d); err != nil || len(ms) == 0 {
			t.Errorf("%s: %d migrations, %v", d, len(ms), err)
		}
	}
}

func TestReopenKeepsDataAndAppliesMigrationsOnce(t *testing.T) {
	forEachBackendConfig(t, func(t *testing.T, cfg Config) {
		ctx := testContext(t)
		db, err := Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		d := insertDistribution(t, db, newDistribution("111111111111", "web"))
		db.Close()

		db, err = Open(ctx, cfg)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		defer db.Close()
		if got, err := db.GetDistributionByID(ctx, d.ID); err != nil || got.Name != "web" {
			t.Fatalf("after reopen: %+v, %v", got, err)
		}
		ms, _ := loadMigrations(migrationFiles, cfg.Driver)
		var applied int
		if err := db.read.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&applied); err != nil || applied != len(ms) {
			t.Fatalf("schema_migrations has %d rows (%v), want %d", applied, err, len(ms))
		}
	})
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	forEachBackendConfig(t, func(t *testing.T, cfg Config) {
		ctx := testContext(t)
		db, err := Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.write.ExecContext(ctx, db.dialect.rebind("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
			999, "0999_from_the_future.sql", 0)
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		if db, err := Open(ctx, cfg); err == nil {
			db.Close()
			t.Fatal("Open succeeded on a schema newer than the binary")
		}
	})
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		cfg  Config
	}{
		{"unknown driver", Config{Driver: "mysql", DSN: dir + "/x.db"}},
		{"sqlite without path", Config{}},
		{"sqlite in memory", Config{DSN: ":memory:"}},
		{"sqlite in memory by URI", Config{DSN: "file:x?mode=memory&cache=shared"}},
		{"sqlite without WAL", Config{DSN: dir + "/rollback.db?_journal_mode=DELETE"}},
		{"sqlite with synchronous NORMAL", Config{DSN: dir + "/normal.db?_synchronous=NORMAL"}},
		{"postgres without DSN", Config{Driver: DriverPostgres}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db, err := Open(testContext(t), tc.cfg)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			if errors.Is(err, ErrNotFound) || errors.Is(err, ErrExists) {
				t.Errorf("configuration error wraps a data sentinel: %v", err)
			}
		})
	}
}

// TestSQLiteConnectionSettings checks that the durability settings really reach the connections.
func TestSQLiteConnectionSettings(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		if db.Driver() != DriverSQLite {
			t.Skip("SQLite PRAGMAs")
		}
		ctx := testContext(t)
		cases := []struct {
			pool   string
			pragma string
			want   string
		}{
			{"write", "journal_mode", "wal"},
			{"write", "synchronous", "2"}, // FULL
			{"write", "foreign_keys", "1"},
			{"write", "busy_timeout", "5000"},
			{"read", "query_only", "1"},
			{"read", "busy_timeout", "5000"},
		}
		for _, tc := range cases {
			pool := db.write
			if tc.pool == "read" {
				pool = db.read
			}
			var got string
			if err := pool.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil || got != tc.want {
				t.Errorf("%s pool: PRAGMA %s = %q (%v), want %q", tc.pool, tc.pragma, got, err, tc.want)
			}
		}
		if n := db.write.Stats().MaxOpenConnections; n != 1 {
			t.Errorf("writer pool allows %d connections, want 1", n)
		}
	})
}

// TestTransferOutMigrationKeepsMeteredBytes: usage metered before migration 0006 counted every byte to
// viewers in bytes_downloaded and the bytes received from viewers in bytes_uploaded; after it, those
// are bytes_to_viewers (what the quota counts) and bytes_from_viewers, and nothing was sent to origins.
func TestTransferOutMigrationKeepsMeteredBytes(t *testing.T) {
	forEachBackendConfig(t, func(t *testing.T, cfg Config) {
		ctx := testContext(t)
		var db *DB
		var err error
		if cfg.Driver == DriverPostgres {
			db, err = openPostgres(ctx, cfg.DSN)
		} else {
			db, err = openSQLite(ctx, cfg.DSN)
		}
		if err != nil {
			t.Fatal(err)
		}
		ms, err := loadMigrations(migrationFiles, cfg.Driver)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.version >= 6 {
				break
			}
			if err := applyMigration(ctx, db.write, db.dialect, m); err != nil {
				t.Fatal(err)
			}
		}
		for _, q := range []string{
			"INSERT INTO distributions (id, account_id, name, domain_name, bundle_id, bundle_changed_cycle, is_enabled, created_at, updated_at, deployed_at, cache_reset_at, config, version)" +
				" VALUES ('d1', '111111111111', 'web', 'd1.test', 'small_1_0', '', TRUE, 0, 0, 0, 0, '', 1)",
			"INSERT INTO usage_minutes (distribution_id, minute, requests, bytes_downloaded, bytes_uploaded, status_4xx, status_5xx)" +
				" VALUES ('d1', 600, 3, 1500, 200, 1, 0)",
		} {
			if _, err := db.write.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		db.Close()
		if db, err = Open(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		got, err := db.QueryUsage(ctx, "d1", 0, 3600)
		want := []UsageDelta{{DistributionID: "d1", Minute: 600, Requests: 3, BytesToViewers: 1500, BytesDownloaded: 1500, BytesFromViewers: 200, Status4xx: 1}}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("after migration: %+v, %v; want %+v", got, err, want)
		}
	})
}
