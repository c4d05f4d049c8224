-- Nothing to do: SQLite compares TEXT with the BINARY collation (memcmp of UTF-8) unless told otherwise,
-- which is the order 0002_bytewise_names.postgres.sql gives PostgreSQL.
-- (A migration must contain a statement for the runner; this one changes nothing.)
SELECT 1;
