package store

import (
	"bytes"
	"context"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
)

// The read cache of DB.GetDistribution on SQLite.
//
// Reading one row through database/sql and SQLite costs about 20 µs, a third of a signed
// GetDistributions answer (docs/benchmarks.md, "The signed API"). Most reads find the row as the
// previous read did, so DB.GetDistribution keeps the rows it read, and answers from them as long as
// no transaction has committed to the database since — in this process or in any other sharing the
// file.
//
// How "no transaction has committed since" is known without a query: in WAL mode every commit
// rewrites the WAL-index header, the first 48 bytes of the database's "-shm" file, which every
// connection of every process maps (https://sqlite.org/walformat.html §2.1; sqlite3 wal.c,
// walIndexWriteHdr). Its iChange counter and mxFrame (the last committed frame) change with every
// commit; its salts with every WAL restart. The header is stored twice, at offsets 0 and 48: a writer
// writes the second copy, then the first; a reader reads the first, then the second, and trusts them
// only when both are equal — SQLite's own lock-free protocol (walIndexTryHdr). A cached row is
// tagged with the header read BEFORE the query that produced it; it is served only while the header
// still reads exactly the same, which means no commit happened between the query and now. A header
// that changed (any commit, also to other tables), that reads torn, or that cannot be read sends the
// read to the database.
//
// The "-shm" file is unlinked only when the last connection to the database closes, and created
// anew by the next: the header is trusted only while the file descriptor still names a linked file
// (checked after reading it), and the writer pool keeps its one connection open for the DB's
// lifetime. Reads inside a transaction (Tx) never use the cache.

// walIndexHeaderSize is the size of one copy of the WAL-index header (struct WalIndexHdr).
const walIndexHeaderSize = 48

// maxCachedRows bounds the cache; it is emptied when full (a cheap bound: the hot set refills it).
const maxCachedRows = 4096

type walHeader [walIndexHeaderSize]byte

// rowCache holds distributions read outside transactions, each tagged with the WAL-index header
// read before the query that produced it.
type rowCache struct {
	shmPath string

	mu   sync.Mutex
	shm  *os.File // nil until opened; reopened when unlinked
	rows map[[2]string]cachedRow

	hits atomic.Int64 // reads answered from the cache (tests)
}

type cachedRow struct {
	at walHeader
	d  Distribution
}

func newRowCache(dbPath string) *rowCache {
	return &rowCache{shmPath: dbPath + "-shm", rows: map[[2]string]cachedRow{}}
}

// header reads the current WAL-index header. ok is false when it cannot be trusted: the file is
// missing or unlinked, too short, or the two copies differ (a commit is writing it).
func (c *rowCache) header() (h walHeader, ok bool) {
	c.mu.Lock()
	f := c.shm
	if f == nil {
		var err error
		if f, err = os.Open(c.shmPath); err != nil {
			c.mu.Unlock()
			return h, false
		}
		c.shm = f
	}
	c.mu.Unlock()
	var buf [2 * walIndexHeaderSize]byte
	if n, err := f.ReadAt(buf[:], 0); n != len(buf) || err != nil {
		return h, false
	}
	if !bytes.Equal(buf[:walIndexHeaderSize], buf[walIndexHeaderSize:]) {
		return h, false
	}
	// After the read: the file was still the database's -shm, so what was read was the live header.
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil || st.Nlink == 0 {
		c.mu.Lock()
		if c.shm == f {
			c.shm = nil
			c.rows = map[[2]string]cachedRow{}
		}
		c.mu.Unlock()
		f.Close()
		return h, false
	}
	copy(h[:], buf[:walIndexHeaderSize])
	return h, true
}

func (c *rowCache) get(key [2]string, at walHeader) (*Distribution, bool) {
	c.mu.Lock()
	e, found := c.rows[key]
	c.mu.Unlock()
	if !found || e.at != at {
		return nil, false
	}
	d := e.d
	d.Config = bytes.Clone(e.d.Config) // the caller owns what it gets
	c.hits.Add(1)
	return &d, true
}

func (c *rowCache) put(key [2]string, at walHeader, d *Distribution) {
	e := cachedRow{at: at, d: *d}
	e.d.Config = bytes.Clone(d.Config)
	c.mu.Lock()
	if len(c.rows) >= maxCachedRows {
		c.rows = map[[2]string]cachedRow{}
	}
	c.rows[key] = e
	c.mu.Unlock()
}

func (c *rowCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.shm != nil {
		c.shm.Close()
		c.shm = nil
	}
}

// GetDistribution returns the account's live distribution with the name, or ErrNotFound: the latest
// committed state, as every DB read. On SQLite it may answer from the read cache described above.
func (db *DB) GetDistribution(ctx context.Context, accountID, name string) (*Distribution, error) {
	c := db.rowCache
	if c == nil {
		return db.queries.GetDistribution(ctx, accountID, name)
	}
	key := [2]string{accountID, name}
	at, ok := c.header()
	if ok {
		if d, hit := c.get(key, at); hit {
			return d, nil
		}
	}
	d, err := db.queries.GetDistribution(ctx, accountID, name)
	if err == nil && ok {
		c.put(key, at, d)
	}
	return d, err
}
