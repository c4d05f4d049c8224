package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
)

// A distribution's DeployGeneration is the generation of its last deploying change (insert, or an
// update that moved DeployedAt); other writes (tags, a cache reset) leave it, and a cache reset has a
// generation of its own.
func TestDeployGenerationFollowsDeployingChanges(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		ctx := testContext(t)
		d := newDistribution("111111111111", "web")
		mustTx(t, db, func(tx *Tx) error { return tx.InsertDistribution(ctx, d) })
		created, _ := db.ConfigGeneration(ctx)
		if d.DeployGeneration != created {
			t.Fatalf("after insert: DeployGeneration %d, want the commit's generation %d", d.DeployGeneration, created)
		}
		read := func() *Distribution {
			t.Helper()
			got, err := db.GetDistributionByID(ctx, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		if got := read().DeployGeneration; got != created {
			t.Fatalf("stored DeployGeneration %d, want %d", got, created)
		}

		// An update that leaves DeployedAt alone (a tag): a new generation, the same deploy generation.
		mustTx(t, db, func(tx *Tx) error {
			cur, err := tx.GetDistributionByIDForUpdate(ctx, d.ID)
			if err != nil {
				return err
			}
			cur.Config = []byte(`{"tags":[{"key":"k"}]}`)
			return tx.UpdateDistribution(ctx, cur)
		})
		if now, _ := db.ConfigGeneration(ctx); now != created+1 || read().DeployGeneration != created {
			t.Fatalf("after a tag: generation %d (want %d), DeployGeneration %d (want %d)", now, created+1, read().DeployGeneration, created)
		}

		// A cache reset: its own generation, the distribution's deploy generation unchanged.
		reset := &CacheReset{DistributionID: d.ID, AccountID: d.AccountID, Status: "InProgress", CreateTime: testTime}
		mustTx(t, db, func(tx *Tx) error {
			cur, err := tx.GetDistributionByIDForUpdate(ctx, d.ID)
			if err != nil {
				return err
			}
			cur.CacheResetAt = testTime.Add(time.Hour)
			if err := tx.UpdateDistribution(ctx, cur); err != nil {
				return err
			}
			return tx.InsertCacheReset(ctx, reset)
		})
		resetGen, _ := db.ConfigGeneration(ctx)
		latest, err := db.LatestCacheReset(ctx, d.AccountID, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if reset.Generation != resetGen || latest.Generation != resetGen || read().DeployGeneration != created {
			t.Fatalf("after a reset at generation %d: reset.Generation %d, stored %d, DeployGeneration %d (want %d)",
				resetGen, reset.Generation, latest.Generation, read().DeployGeneration, created)
		}

		// An update that moves DeployedAt deploys again.
		var updated *Distribution
		mustTx(t, db, func(tx *Tx) error {
			cur, err := tx.GetDistributionByIDForUpdate(ctx, d.ID)
			if err != nil {
				return err
			}
			cur.IsEnabled = false
			cur.DeployedAt = cur.DeployedAt.Add(time.Hour)
			updated = cur
			return tx.UpdateDistribution(ctx, cur)
		})
		deployed, _ := db.ConfigGeneration(ctx)
		if updated.DeployGeneration != deployed || read().DeployGeneration != deployed {
			t.Fatalf("after a deploying update at %d: DeployGeneration %d, stored %d", deployed, updated.DeployGeneration, read().DeployGeneration)
		}
	})
}

// The registry: an edge counts while its heartbeat is younger than the timeout; the fleet serves a
// generation when every live edge does; a removed edge no longer counts.
func TestEdgeRegistry(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		ctx := testContext(t)
		if f, err := db.LiveEdges(ctx, time.Hour); err != nil || f.Live != 0 || !f.Serves(1<<40) {
			t.Fatalf("empty registry: %+v, %v; want nothing live and nothing to wait for", f, err)
		}
		if err := db.ReportEdge(ctx, "a", "edge a", 7); err != nil {
			t.Fatal(err)
		}
		if err := db.ReportEdge(ctx, "b", "edge b", 5); err != nil {
			t.Fatal(err)
		}
		f, err := db.LiveEdges(ctx, time.Hour)
		if err != nil || f.Live != 2 || f.MinGeneration != 5 || !f.Serves(5) || f.Serves(6) {
			t.Fatalf("two edges at 7 and 5: %+v, %v", f, err)
		}
		if err := db.ReportEdge(ctx, "b", "edge b", 9); err != nil { // b catches up
			t.Fatal(err)
		}
		if f, _ = db.LiveEdges(ctx, time.Hour); f.Live != 2 || f.MinGeneration != 7 {
			t.Fatalf("after b reports 9: %+v", f)
		}
		edges, err := db.ListEdges(ctx)
		if err != nil || len(edges) != 2 || edges[0].ID != "b" || edges[0].Generation != 9 || edges[0].Age < 0 || edges[0].Age > time.Minute {
			t.Fatalf("ListEdges = %+v, %v", edges, err)
		}

		// Silence longer than the timeout: the edge stops counting.
		const timeout = 300 * time.Millisecond
		wait.Until(t, 5*time.Second, "the edges to be silent for longer than the timeout", func() bool {
			f, err := db.LiveEdges(ctx, timeout)
			return err == nil && f.Live == 0
		})
		// a reports again and counts; b stays silent and does not. On a loaded machine more than the
		// timeout can pass between the report and the read, so the report is repeated until a read
		// follows it in time — b, silent all along, must never count.
		wait.For(t, 5*time.Second, "only a heard recently", func() error {
			if err := db.ReportEdge(ctx, "a", "edge a", 7); err != nil {
				return err
			}
			f, err := db.LiveEdges(ctx, timeout)
			if err != nil || f.Live != 1 || f.MinGeneration != 7 {
				return fmt.Errorf("%+v, %v", f, err)
			}
			return nil
		})

		if err := db.RemoveEdge(ctx, "a", time.Hour); err != nil {
			t.Fatal(err)
		}
		if edges, _ = db.ListEdges(ctx); len(edges) != 1 || edges[0].ID != "b" {
			t.Fatalf("after removing a: %+v", edges)
		}
		// Forgetting: b has been silent for more than a millisecond.
		wait.For(t, 5*time.Second, "b to be forgotten", func() error {
			if err := db.RemoveEdge(ctx, "none", time.Millisecond); err != nil {
				return err
			}
			if edges, _ := db.ListEdges(ctx); len(edges) != 0 {
				return fmt.Errorf("still listed: %+v", edges)
			}
			return nil
		})
	})
}

// Every node of a store gets the same secret, drawn once.
func TestSecretIsDrawnOnce(t *testing.T) {
	forEachBackendConfig(t, func(t *testing.T, cfg Config) {
		ctx := testContext(t)
		a, err := Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		b, err := Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		sa, err := a.Secret(ctx, "tier")
		if err != nil {
			t.Fatal(err)
		}
		sb, err := b.Secret(ctx, "tier")
		if err != nil {
			t.Fatal(err)
		}
		other, _ := a.Secret(ctx, "other")
		if sa != sb || len(sa) < 40 || other == sa {
			t.Fatalf("secrets: %q and %q (other %q); want one long secret per name", sa, sb, other)
		}
	})
}
