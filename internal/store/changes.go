package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sailcdn/sailcdn/internal/backoff"
)

// The change feed tells edges that what they serve may have changed, so that a change reaches them in
// milliseconds instead of at their next poll:
//
//   - in process: every commit of a *DB that drew a new configuration generation signals that DB's
//     watchers at once (an `all` node on SQLite, or any node whose own API made the change);
//   - across processes on PostgreSQL: that commit also NOTIFYs the store's channel, and every watcher
//     LISTENs on a dedicated connection, reconnected with backoff when it breaks.
//
// A signal carries nothing: the watcher reads the generation and reloads if it moved. Signals
// coalesce, so a burst of commits costs one reload (plus one for what committed during it). SQLite
// shared by several processes has no cross-process signal: their edges poll.

// feed fans in-process commit signals out to the watchers of one DB.
type feed struct {
	mu   sync.Mutex // guards subs
	subs map[chan struct{}]struct{}
}

func (f *feed) subscribe() (chan struct{}, func()) {
	c := make(chan struct{}, 1)
	f.mu.Lock()
	if f.subs == nil {
		f.subs = map[chan struct{}]struct{}{}
	}
	f.subs[c] = struct{}{}
	f.mu.Unlock()
	return c, func() {
		f.mu.Lock()
		delete(f.subs, c)
		f.mu.Unlock()
	}
}

// signal wakes every subscriber; one already woken and not yet drained stays woken once.
func (f *feed) signal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.subs {
		notify(c)
	}
}

func notify(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// changeChannel is the PostgreSQL channel of the store in schema: NOTIFY channels are database-wide,
// and stores in different schemas of one database (the tests' per-test schemas) must not wake each
// other. Channel names are identifiers, at most 63 bytes.
func changeChannel(schema string) string {
	const base = "sailcdn_changes"
	if schema == "" || schema == "public" {
		return base
	}
	if c := base + "_" + schema; len(c) <= 63 {
		return c
	}
	sum := sha256.Sum256([]byte(schema))
	return base + "_" + hex.EncodeToString(sum[:12])
}

// Listener timing.
const (
	// listenPing is how long the listener waits for a notification before it checks the connection
	// with a round trip: a connection that died without a FIN or RST (a partition, a host gone)
	// shows as silence, and the edges must fall back to polling rather than wait for notifications
	// that cannot come.
	listenPing = 10 * time.Second
	// listenPingTimeout bounds that check.
	listenPingTimeout = 5 * time.Second
)

// listenBackoff spaces reconnections: a fleet of edges must not reconnect in lockstep to a database
// that has just come back.
var listenBackoff = backoff.Policy{Min: 100 * time.Millisecond, Max: 5 * time.Second}

// ChangeWatch signals on C whenever something edges serve may have changed. Create it with
// DB.WatchChanges; it ends with the context given there.
type ChangeWatch struct {
	// C receives a value (coalesced) after each relevant commit, and whenever the cross-process
	// listener (re)connects, since it may have missed notifications while it was away.
	C <-chan struct{}

	listening atomic.Bool
	done      chan struct{}
}

// Listening reports whether commits of other processes currently reach C: true on PostgreSQL while the
// listener's connection is up. When it is false the caller must poll ConfigGeneration to see them.
func (w *ChangeWatch) Listening() bool { return w.listening.Load() }

// Done is closed when the watch has ended (its context ended and the listener's connection closed).
func (w *ChangeWatch) Done() <-chan struct{} { return w.done }

// WatchChanges starts a watch that lasts until ctx ends. log receives the listener's connection
// changes (nil: slog.Default()).
func (db *DB) WatchChanges(ctx context.Context, log *slog.Logger) *ChangeWatch {
	if log == nil {
		log = slog.Default()
	}
	c, unsubscribe := db.changes.subscribe()
	w := &ChangeWatch{C: c, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		defer unsubscribe()
		if db.channel == "" {
			<-ctx.Done()
			return
		}
		db.listen(ctx, w, c, log)
	}()
	return w
}

// listen keeps a dedicated connection LISTENing on db.channel until ctx ends, reconnecting with
// backoff, and signals c on every notification and every (re)connection.
func (db *DB) listen(ctx context.Context, w *ChangeWatch, c chan struct{}, log *slog.Logger) {
	outage := backoff.Streak{Policy: listenBackoff}
	for ctx.Err() == nil {
		conn, err := db.connectListener(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			first, wait := outage.Fail()
			if first {
				log.Warn("store: change listener cannot connect; edges poll meanwhile", "err", err)
			}
			_ = backoff.Sleep(ctx, wait)
			continue
		}
		if n := outage.Succeed(); n > 0 {
			log.Info("store: change listener connected again", "attempts", n+1)
		}
		w.listening.Store(true)
		notify(c) // whatever committed while nobody listened
		err = waitNotifications(ctx, conn, c)
		w.listening.Store(false)
		conn.Close(context.Background())
		if ctx.Err() != nil {
			return
		}
		log.Warn("store: change listener lost its connection; edges poll meanwhile", "err", err)
	}
}

func (db *DB) connectListener(ctx context.Context) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, db.dsn)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(cctx, "LISTEN "+pgx.Identifier{db.channel}.Sanitize()); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	return conn, nil
}

// waitNotifications signals c for every notification on conn until the connection fails (its
// error) or ctx ends (nil).
func waitNotifications(ctx context.Context, conn *pgx.Conn, c chan struct{}) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, listenPing)
		_, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case err == nil:
			notify(c)
			continue
		case wctx.Err() == nil:
			return err // the connection failed
		}
		// Silence for listenPing: make sure the connection is still there. pgconn keeps a
		// connection whose read merely timed out usable.
		pctx, cancel := context.WithTimeout(ctx, listenPingTimeout)
		err = conn.Ping(pctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}
