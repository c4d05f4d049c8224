-- The initial schema. Shared by SQLite (>= 3.35) and PostgreSQL (>= 12), so it uses only TEXT, BIGINT and
-- BOOLEAN columns, stores every time as BIGINT unix microseconds (both engines then agree to the
-- microsecond), and enforces "unique among live rows" with partial unique indexes.

-- meta holds named counters: config_generation (bumped by every transaction that writes distributions;
-- the edge polls it) and the sequences that order history rows in commit order.
CREATE TABLE meta (
	name  TEXT PRIMARY KEY,
	value BIGINT NOT NULL
);
INSERT INTO meta (name, value) VALUES
	('config_generation', 0),
	('operation_seq', 0),
	('cache_reset_seq', 0),
	('bundle_change_seq', 0);

CREATE TABLE distributions (
	id                   TEXT PRIMARY KEY,
	account_id           TEXT NOT NULL,
	name                 TEXT NOT NULL,
	domain_name          TEXT NOT NULL,
	bundle_id            TEXT NOT NULL,
	bundle_changed_cycle TEXT NOT NULL,
	is_enabled           BOOLEAN NOT NULL,
	created_at           BIGINT NOT NULL,
	updated_at           BIGINT NOT NULL,
	deployed_at          BIGINT NOT NULL,
	cache_reset_at       BIGINT NOT NULL,
	config               TEXT NOT NULL,
	version              BIGINT NOT NULL,
	deleted_at           BIGINT
);
CREATE UNIQUE INDEX distributions_live_name ON distributions (account_id, name) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX distributions_live_domain ON distributions (domain_name) WHERE deleted_at IS NULL;

CREATE TABLE operations (
	id                TEXT PRIMARY KEY,
	seq               BIGINT NOT NULL UNIQUE,
	account_id        TEXT NOT NULL,
	resource_name     TEXT NOT NULL,
	resource_type     TEXT NOT NULL,
	operation_type    TEXT NOT NULL,
	status            TEXT NOT NULL,
	region_name       TEXT NOT NULL,
	availability_zone TEXT NOT NULL,
	operation_details TEXT NOT NULL,
	error_code        TEXT NOT NULL,
	error_details     TEXT NOT NULL,
	is_terminal       BOOLEAN NOT NULL,
	created_at        BIGINT NOT NULL,
	status_changed_at BIGINT NOT NULL
);
CREATE INDEX operations_account_seq ON operations (account_id, seq);
CREATE INDEX operations_resource_seq ON operations (account_id, resource_name, seq);

-- Origins are global (the admin endpoint registers them), keyed by Region and resource name.
CREATE TABLE origins (
	region_name   TEXT NOT NULL,
	name          TEXT NOT NULL,
	resource_type TEXT NOT NULL,
	url           TEXT NOT NULL,
	created_at    BIGINT NOT NULL,
	PRIMARY KEY (region_name, name)
);

CREATE TABLE cache_resets (
	seq             BIGINT PRIMARY KEY,
	distribution_id TEXT NOT NULL REFERENCES distributions (id),
	account_id      TEXT NOT NULL,
	status          TEXT NOT NULL,
	create_time     BIGINT NOT NULL
);
CREATE INDEX cache_resets_account ON cache_resets (account_id, create_time);
CREATE INDEX cache_resets_distribution ON cache_resets (distribution_id, create_time);

CREATE TABLE bundle_changes (
	seq             BIGINT PRIMARY KEY,
	distribution_id TEXT NOT NULL REFERENCES distributions (id),
	account_id      TEXT NOT NULL,
	bundle_id       TEXT NOT NULL,
	effective_from  BIGINT NOT NULL
);
CREATE INDEX bundle_changes_distribution ON bundle_changes (distribution_id, effective_from);

CREATE TABLE usage_minutes (
	distribution_id  TEXT NOT NULL REFERENCES distributions (id),
	minute           BIGINT NOT NULL,
	requests         BIGINT NOT NULL,
	bytes_downloaded BIGINT NOT NULL,
	bytes_uploaded   BIGINT NOT NULL,
	status_4xx       BIGINT NOT NULL,
	status_5xx       BIGINT NOT NULL,
	PRIMARY KEY (distribution_id, minute)
);

CREATE TABLE certificates (
	id          TEXT PRIMARY KEY,
	account_id  TEXT NOT NULL,
	name        TEXT NOT NULL,
	domain_name TEXT NOT NULL,
	status      TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	config      TEXT NOT NULL,
	deleted_at  BIGINT
);
CREATE UNIQUE INDEX certificates_live_name ON certificates (account_id, name) WHERE deleted_at IS NULL;
