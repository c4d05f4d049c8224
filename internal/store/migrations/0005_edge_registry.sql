-- What edges serve, and which change each status waits for (issue 11; issue 10 item 4 "Deployed means
-- deployed").
--
-- deploy_generation: the configuration generation of the distribution's last change that has to reach
-- the edges (a create, or an update that set deployed_at again): it reports Deployed once every live
-- edge serves that generation or a newer one. cache_resets.generation likewise for a reset. Rows
-- written before this migration keep 0, which every edge serves.
ALTER TABLE distributions ADD COLUMN deploy_generation BIGINT NOT NULL DEFAULT 0;
ALTER TABLE cache_resets ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;

-- The edge registry: one row per running edge process (id drawn at its start), with the generation it
-- serves and its last heartbeat, both times by the database's clock so that machines' clocks need not
-- agree. A stopped edge deletes its row; a killed one stops counting once its heartbeat is older than
-- the API's edge timeout, and is pruned after a day.
CREATE TABLE edge_nodes (
	id           TEXT PRIMARY KEY,
	name         TEXT NOT NULL,
	generation   BIGINT NOT NULL,
	started_at   BIGINT NOT NULL,
	heartbeat_at BIGINT NOT NULL
);

-- Secrets shared by every node of the store, drawn at random on first use (store.DB.Secret): the key
-- with which a child edge signs the requests it sends to its parent edge.
CREATE TABLE secrets (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
