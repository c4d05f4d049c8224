-- Names are listed "ordered by name" and paged with "name > ?". PostgreSQL compares TEXT with the
-- database's collation, and a linguistic one (en_US.UTF-8) ignores punctuation and case at first level,
-- so "a-c" would sort after "ab" here but before it on SQLite. COLLATE "C" compares bytes, which for
-- UTF-8 is code point order: exactly SQLite's BINARY collation, so both engines list and page alike.
-- This is the one migration that cannot be shared: SQLite has no collation named "C".
-- Changing a column's collation rebuilds the indexes on it (including the partial unique ones).
ALTER TABLE distributions ALTER COLUMN account_id TYPE TEXT COLLATE "C";
ALTER TABLE distributions ALTER COLUMN name TYPE TEXT COLLATE "C";
ALTER TABLE distributions ALTER COLUMN domain_name TYPE TEXT COLLATE "C";
ALTER TABLE certificates ALTER COLUMN account_id TYPE TEXT COLLATE "C";
ALTER TABLE certificates ALTER COLUMN name TYPE TEXT COLLATE "C";
ALTER TABLE origins ALTER COLUMN region_name TYPE TEXT COLLATE "C";
ALTER TABLE origins ALTER COLUMN name TYPE TEXT COLLATE "C";
