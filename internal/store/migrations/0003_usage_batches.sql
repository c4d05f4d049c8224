-- Usage flushes by batch id, so that a batch whose COMMIT succeeded but whose acknowledgement was lost
-- is not added a second time when the meter retries it (AddUsageBatch). Rows older than a week are
-- pruned by AddUsageBatch itself.
CREATE TABLE usage_batches (
	id         TEXT PRIMARY KEY,
	applied_at BIGINT NOT NULL
);
CREATE INDEX usage_batches_applied_at ON usage_batches (applied_at);
