package store

import (
	"context"
	"fmt"
)

// The configuration generation is one counter (the meta row config_generation) that grows with every
// committed transaction that changed anything an edge serves: distributions, origins, certificates.
// An edge compares it with the generation it loaded (a one-row read: the cheap poll), is told of a new
// one at once through the change feed (changes.go), and reports the generation it serves to the edge
// registry (edgenode.go), which is how the API knows that a change has been deployed.

// ConfigGeneration returns the configuration generation: it grows whenever a transaction that changed
// what edges serve commits, once per transaction (not per row).
func (r queries) ConfigGeneration(ctx context.Context) (int64, error) {
	var gen int64
	if err := r.queryRow(ctx, "SELECT value FROM meta WHERE name = ?", metaConfigGeneration).Scan(&gen); err != nil {
		return 0, fmt.Errorf("store: config generation: %w", err)
	}
	return gen, nil
}

// pendingGeneration marks a generation column whose row waits for its transaction's generation.
const pendingGeneration = -1

// stamp fills one row's generation column with the generation its transaction commits at. The
// generation is drawn last (publishGeneration), after the row was written, so the row is written
// with pendingGeneration and stamped then.
type stamp struct {
	query string // "UPDATE t SET col = ? WHERE key = ? AND col = -1": the generation, then key
	key   any
	into  *int64 // the caller's copy of the column, set after commit when non-nil and the row was pending

	applied bool // the row was pending and has been stamped
}

// servedChanged records that tx changed something edges serve: its commit draws a new generation,
// fills the stamps with it and tells every edge (see publishGeneration). Call it after the write
// succeeded, so a failed write changes nothing.
func (tx *Tx) servedChanged(stamps ...stamp) {
	tx.served = true
	tx.stamps = append(tx.stamps, stamps...)
}

// publishGeneration runs just before commit, after everything fn wrote. On PostgreSQL the UPDATE locks
// the counter's row until commit; taking that lock last, after every row lock fn took, means two
// transactions can never wait on each other through it (no deadlock), and it is held only for the
// commit itself. It also orders generations by commit: a transaction drawing generation g+1 waits for
// the one holding g to commit, so an edge that reads g+1 sees every change up to it.
//
// On PostgreSQL the commit also notifies the store's channel (NOTIFY is transactional: delivered at
// commit, dropped on rollback; PostgreSQL docs, "NOTIFY"), which edges of every process LISTEN on.
func (tx *Tx) publishGeneration(ctx context.Context, channel string) (int64, error) {
	var gen int64
	var err error
	if channel != "" {
		// One round trip for both: a data-modifying CTE (PostgreSQL docs, "WITH Queries", 7.8.4).
		err = tx.queryRow(ctx, "WITH g AS (UPDATE meta SET value = value + 1 WHERE name = ? RETURNING value)"+
			" SELECT value FROM g, LATERAL pg_notify(?, CAST(value AS TEXT))", metaConfigGeneration, channel).Scan(&gen)
	} else {
		err = tx.queryRow(ctx, "UPDATE meta SET value = value + 1 WHERE name = ? RETURNING value", metaConfigGeneration).Scan(&gen)
	}
	if err != nil {
		return 0, fmt.Errorf("store: bump config generation: %w", err)
	}
	for i := range tx.stamps {
		s := &tx.stamps[i]
		res, err := tx.exec(ctx, s.query, gen, s.key)
		if err != nil {
			return 0, fmt.Errorf("store: stamp generation %d: %w", gen, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("store: stamp generation %d: %w", gen, err)
		}
		s.applied = n > 0
	}
	return gen, nil
}

// Served is everything an edge serves, as of one configuration generation.
type Served struct {
	Generation int64
	// Distributions are the live distributions, ordered by account and name.
	Distributions []Distribution
	// Origins are the registered origins, ordered by Region and name.
	Origins []Origin
}

// Served reads what edges serve and the generation it reflects in one snapshot: an edge that loads
// it and later sees a larger generation knows its copy is stale, with no window in which a change
// could slip between the reads.
func (db *DB) Served(ctx context.Context) (*Served, error) {
	db.readStmts.prepareWanted(ctx)
	sqlTx, err := db.read.BeginTx(ctx, db.dialect.snapshotTxOptions())
	if err != nil {
		return nil, fmt.Errorf("store: load served configuration: %w", err)
	}
	defer sqlTx.Rollback()
	r := queries{q: sqlTx, d: db.dialect, stmts: db.readStmts, tx: sqlTx}
	s := &Served{}
	if s.Generation, err = r.ConfigGeneration(ctx); err != nil {
		return nil, err
	}
	if s.Distributions, err = r.ListLiveDistributions(ctx); err != nil {
		return nil, err
	}
	if s.Origins, err = r.ListOrigins(ctx); err != nil {
		return nil, err
	}
	return s, nil
}
