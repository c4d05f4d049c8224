package store

import (
	"context"
	"fmt"
	"time"
)

// The edge registry (table edge_nodes, migration 0004): every running edge reports the configuration
// generation it serves, and a heartbeat. The API reads it to decide whether a change is deployed: a
// change is served once every live edge serves its generation, and an edge is live while its last
// heartbeat is younger than the API's edge timeout. All times in the registry are the database's clock
// (dialect.nowMicros), so that edges and API nodes on different machines need not agree on the time.

// EdgeNode is one edge process as it last reported itself.
type EdgeNode struct {
	ID   string // drawn at the process's start
	Name string // for operators: the host and its edge address
	// Generation is the configuration generation the edge serves.
	Generation  int64
	StartedAt   time.Time // the database's clock
	HeartbeatAt time.Time // the database's clock
	// Age is how long ago the last heartbeat was, by the database's clock when the list was read.
	Age time.Duration
}

// ReportEdge records that the edge with the id serves generation and is alive now. The first report
// registers the edge.
func (db *DB) ReportEdge(ctx context.Context, id, name string, generation int64) error {
	now := db.dialect.nowMicros()
	_, err := db.write.ExecContext(ctx, db.dialect.rebind("INSERT INTO edge_nodes (id, name, generation, started_at, heartbeat_at)"+
		" VALUES (?, ?, ?, "+now+", "+now+")"+
		" ON CONFLICT (id) DO UPDATE SET name = excluded.name, generation = excluded.generation, heartbeat_at = excluded.heartbeat_at"),
		id, name, generation)
	if err != nil {
		return fmt.Errorf("store: report edge %s: %w", id, err)
	}
	return nil
}

// RemoveEdge deletes the edge's row (a stopped edge no longer counts), and the rows of edges silent for
// longer than forgetAfter (killed ones).
func (db *DB) RemoveEdge(ctx context.Context, id string, forgetAfter time.Duration) error {
	_, err := db.write.ExecContext(ctx, db.dialect.rebind("DELETE FROM edge_nodes WHERE id = ? OR heartbeat_at < "+db.dialect.nowMicros()+" - ?"),
		id, forgetAfter.Microseconds())
	if err != nil {
		return fmt.Errorf("store: remove edge %s: %w", id, err)
	}
	return nil
}

// EdgeFleet is what the live edges serve.
type EdgeFleet struct {
	// Live counts the edges whose last heartbeat is younger than the timeout asked for.
	Live int
	// MinGeneration is the oldest configuration generation a live edge serves (0 when none is live).
	MinGeneration int64
}

// Serves reports whether every live edge serves generation gen or a newer one. With no live edge
// nothing serves, and nothing is waited for either: true.
func (f EdgeFleet) Serves(gen int64) bool { return f.Live == 0 || f.MinGeneration >= gen }

// LiveEdges summarises the edges whose last heartbeat is younger than timeout.
func (r queries) LiveEdges(ctx context.Context, timeout time.Duration) (EdgeFleet, error) {
	var f EdgeFleet
	var minGen *int64
	err := r.queryRow(ctx, "SELECT COUNT(*), MIN(generation) FROM edge_nodes WHERE heartbeat_at >= "+r.d.nowMicros()+" - ?",
		timeout.Microseconds()).Scan(&f.Live, &minGen)
	if err != nil {
		return EdgeFleet{}, fmt.Errorf("store: live edges: %w", err)
	}
	if minGen != nil {
		f.MinGeneration = *minGen
	}
	return f, nil
}

// ListEdges returns every registered edge, the most recently heard first.
func (r queries) ListEdges(ctx context.Context) ([]EdgeNode, error) {
	rows, err := r.query(ctx, "SELECT id, name, generation, started_at, heartbeat_at, "+r.d.nowMicros()+" - heartbeat_at"+
		" FROM edge_nodes ORDER BY heartbeat_at DESC, id")
	return all(rows, err, func(s scanner) (EdgeNode, error) {
		var (
			e                      EdgeNode
			started, hb, ageMicros int64
		)
		err := s.Scan(&e.ID, &e.Name, &e.Generation, &started, &hb, &ageMicros)
		e.StartedAt, e.HeartbeatAt, e.Age = fromMicros(started), fromMicros(hb), time.Duration(ageMicros)*time.Microsecond
		return e, err
	}, "list edges")
}
