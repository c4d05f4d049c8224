package store

import (
	"errors"
	"reflect"
	"sync"
	"testing"
)

func TestAddUsage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		ctx := testContext(t)
		d := insertDistribution(t, db, newDistribution("111111111111", "web"))
		other := insertDistribution(t, db, newDistribution("111111111111", "other"))
		const m = 1_776_000_000 // a multiple of 60
		batches := [][]UsageDelta{
			{
				{DistributionID: d.ID, Minute: m, Requests: 2, BytesToViewers: 1200, BytesDownloaded: 1000, BytesFromViewers: 30,
					BytesToOrigin: 40, BytesUploaded: 10, Status4xx: 1},
				{DistributionID: d.ID, Minute: m + 60, Requests: 1, BytesDownloaded: 5},
				// The same minute twice in one batch is merged before the upsert.
				{DistributionID: d.ID, Minute: m, Requests: 1, BytesDownloaded: 1, Status5xx: 1},
				{DistributionID: other.ID, Minute: m, Requests: 7},
			},
			{
				{DistributionID: d.ID, Minute: m, Requests: 10, BytesDownloaded: 1 << 40},
				{DistributionID: d.ID, Minute: m + 120, Requests: 3},
			},
		}
		for _, b := range batches {
			if err := db.AddUsage(ctx, b); err != nil {
				t.Fatalf("AddUsage: %v", err)
			}
		}
		cases := []struct {
			name     string
			from, to int64
			want     []UsageDelta
		}{
			{"everything", 0, m + 180, []UsageDelta{
				{DistributionID: d.ID, Minute: m, Requests: 13, BytesToViewers: 1200, BytesDownloaded: 1001 + 1<<40, BytesFromViewers: 30,
					BytesToOrigin: 40, BytesUploaded: 10, Status4xx: 1, Status5xx: 1},
				{DistributionID: d.ID, Minute: m + 60, Requests: 1, BytesDownloaded: 5},
				{DistributionID: d.ID, Minute: m + 120, Requests: 3},
			}},
			{"to is exclusive", m, m + 120, []UsageDelta{
				{DistributionID: d.ID, Minute: m, Requests: 13, BytesToViewers: 1200, BytesDownloaded: 1001 + 1<<40, BytesFromViewers: 30,
					BytesToOrigin: 40, BytesUploaded: 10, Status4xx: 1, Status5xx: 1},
				{DistributionID: d.ID, Minute: m + 60, Requests: 1, BytesDownloaded: 5},
			}},
			{"from is inclusive", m + 120, m + 121, []UsageDelta{{DistributionID: d.ID, Minute: m + 120, Requests: 3}}},
			{"empty range", m + 180, m + 600, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, err := db.QueryUsage(ctx, d.ID, tc.from, tc.to)
				if err != nil || !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("QueryUsage(%d, %d):\n got %+v, %v\nwant %+v", tc.from, tc.to, got, err, tc.want)
				}
			})
		}

		t.Run("rejected batches change nothing", func(t *testing.T) {
			bad := []struct {
				name  string
				batch []UsageDelta
				want  error
			}{
				{"unknown distribution", []UsageDelta{{DistributionID: d.ID, Minute: m, Requests: 100}, {DistributionID: "no-such-id", Minute: m, Requests: 1}}, ErrNotFound},
				{"minute not on a minute boundary", []UsageDelta{{DistributionID: d.ID, Minute: m, Requests: 100}, {DistributionID: d.ID, Minute: m + 1}}, nil},
				{"no distribution id", []UsageDelta{{Minute: m}}, nil},
			}
			for _, tc := range bad {
				err := db.AddUsage(ctx, tc.batch)
				if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
					t.Errorf("%s: err %v, want an error (%v)", tc.name, err, tc.want)
				}
			}
			got, err := db.QueryUsage(ctx, d.ID, m, m+60)
			if err != nil || len(got) != 1 || got[0].Requests != 13 {
				t.Fatalf("after rejected batches: %+v, %v; want Requests still 13", got, err)
			}
		})

		if err := db.AddUsage(ctx, nil); err != nil {
			t.Errorf("AddUsage(nil): %v", err)
		}
	})
}

// TestAddUsageConcurrent: meters in several goroutines (or processes) flushing into the same rows
// must sum exactly; a read-modify-write in Go would lose updates here.
func TestAddUsageConcurrent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		ctx := testContext(t)
		a := insertDistribution(t, db, newDistribution("111111111111", "a"))
		b := insertDistribution(t, db, newDistribution("111111111111", "b"))
		const (
			workers = 8
			flushes = 15
			m       = 1_776_000_000
		)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := range flushes {
					// Workers list the rows in different orders; AddUsage sorts them, so PostgreSQL
					// locks rows in one order and cannot deadlock.
					batch := []UsageDelta{
						{DistributionID: b.ID, Minute: m + 60, Requests: 1, BytesDownloaded: int64(w)},
						{DistributionID: a.ID, Minute: m, Requests: 1, BytesUploaded: int64(i)},
						{DistributionID: a.ID, Minute: m + 60, Requests: 2, Status5xx: 1},
					}
					if w%2 == 1 {
						batch[0], batch[2] = batch[2], batch[0]
					}
					if err := db.AddUsage(ctx, batch); err != nil {
						t.Errorf("worker %d: %v", w, err)
						return
					}
				}
			})
		}
		wg.Wait()
		const sumI = flushes * (flushes - 1) / 2
		const sumW = workers * (workers - 1) / 2
		want := map[string][]UsageDelta{
			a.ID: {
				{DistributionID: a.ID, Minute: m, Requests: workers * flushes, BytesUploaded: workers * sumI},
				{DistributionID: a.ID, Minute: m + 60, Requests: 2 * workers * flushes, Status5xx: workers * flushes},
			},
			b.ID: {{DistributionID: b.ID, Minute: m + 60, Requests: workers * flushes, BytesDownloaded: flushes * sumW}},
		}
		for id, w := range want {
			got, err := db.QueryUsage(ctx, id, m, m+120)
			if err != nil || !reflect.DeepEqual(got, w) {
				t.Errorf("QueryUsage(%s):\n got %+v, %v\nwant %+v", id, got, err, w)
			}
		}
	})
}

func TestQueryHourlyBytesOut(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		ctx := testContext(t)
		d := insertDistribution(t, db, newDistribution("111111111111", "web"))
		hour := int64(1_775_000_000 / 3600 * 3600)
		// Bytes out are bytes to viewers plus bytes to the origin, whatever the method.
		rows := []UsageDelta{
			{DistributionID: d.ID, Minute: hour, BytesToViewers: 6, BytesToOrigin: 4, BytesUploaded: 4},
			{DistributionID: d.ID, Minute: hour + 60, BytesToViewers: 5, BytesDownloaded: 5, Requests: 1},
			{DistributionID: d.ID, Minute: hour + 3540, BytesToOrigin: 1},
			{DistributionID: d.ID, Minute: hour + 3600, BytesFromViewers: 7}, // no bytes out: no row
			{DistributionID: d.ID, Minute: hour + 7200 + 120, BytesToViewers: 3_000_000_000_000},
		}
		if err := db.AddUsage(ctx, rows); err != nil {
			t.Fatal(err)
		}
		got, err := db.QueryHourlyBytesOut(ctx, d.ID, hour, hour+3*3600)
		if err != nil {
			t.Fatal(err)
		}
		want := []HourlyBytesOut{{LastMinute: hour + 3540, Bytes: 16}, {LastMinute: hour + 7320, Bytes: 3_000_000_000_000}}
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
			t.Fatalf("got %+v, want %+v", got, want)
		}
		if got, _ := db.QueryHourlyBytesOut(ctx, d.ID, hour+60, hour+3600); len(got) != 1 || got[0].Bytes != 6 {
			t.Fatalf("window is not applied per minute: %+v", got)
		}
	})
}

// TestAddUsageBatchAtMostOnce: a batch applied once is not added again when retried with its id
// (the meter's retry after an ambiguous COMMIT), a refused batch leaves no id behind, and ids older
// than the retention are pruned.
func TestAddUsageBatchAtMostOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		ctx := testContext(t)
		d := insertDistribution(t, db, newDistribution("111111111111", "web"))
		const m = 1_776_000_000
		batch := []UsageDelta{{DistributionID: d.ID, Minute: m, Requests: 3, BytesDownloaded: 300}}
		for i, wantApplied := range []bool{true, false, false} {
			applied, err := db.AddUsageBatch(ctx, "batch-1", m, batch)
			if err != nil || applied != wantApplied {
				t.Fatalf("attempt %d: applied %v, err %v; want applied %v", i, applied, err, wantApplied)
			}
		}
		if applied, err := db.AddUsageBatch(ctx, "batch-2", m+60, batch); err != nil || !applied {
			t.Fatalf("another batch: applied %v, err %v", applied, err)
		}
		rows, err := db.QueryUsage(ctx, d.ID, 0, m+60)
		if err != nil || len(rows) != 1 || rows[0].Requests != 6 || rows[0].BytesDownloaded != 600 {
			t.Fatalf("usage %+v, %v; want 6 requests and 600 bytes (two batches, each once)", rows, err)
		}

		// A batch the store refuses (unknown distribution) records nothing: its retry applies.
		bad := append([]UsageDelta{{DistributionID: "no-such-distribution", Minute: m, Requests: 1}}, batch...)
		if _, err := db.AddUsageBatch(ctx, "batch-3", m, bad); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown distribution: %v, want ErrNotFound", err)
		}
		if applied, err := db.AddUsageBatch(ctx, "batch-3", m, batch); err != nil || !applied {
			t.Fatalf("retry of a refused batch: applied %v, err %v", applied, err)
		}

		// A week later the old ids are pruned by the next batch; "batch-1" would apply again.
		later := int64(m + UsageBatchRetention + 60)
		if applied, err := db.AddUsageBatch(ctx, "batch-4", later, nil); err != nil || !applied {
			t.Fatalf("later batch: applied %v, err %v", applied, err)
		}
		if applied, err := db.AddUsageBatch(ctx, "batch-1", later, nil); err != nil || !applied {
			t.Fatalf("pruned id: applied %v, err %v; want it forgotten", applied, err)
		}
		if _, err := db.AddUsageBatch(ctx, "", m, batch); err == nil {
			t.Fatal("empty id accepted")
		}
	})
}
