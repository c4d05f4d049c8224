-- All data transfer out of a distribution counts toward its quota: to viewers (every method) and to
-- the origin (docs/decisions.md, "What counts toward the quota"); the BytesDownloaded and
-- BytesUploaded metrics are the parts the Lightsail model defines (GET, HEAD and OPTIONS answers to
-- viewers; POST and PUT bodies to the origin). Rows metered before this migration counted every byte
-- to viewers in bytes_downloaded, so that is what bytes_to_viewers gets; their bytes_uploaded were
-- bytes received from viewers, now bytes_from_viewers; nothing was metered towards origins.
ALTER TABLE usage_minutes RENAME COLUMN bytes_uploaded TO bytes_from_viewers;
ALTER TABLE usage_minutes ADD COLUMN bytes_to_viewers BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_minutes ADD COLUMN bytes_to_origin BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_minutes ADD COLUMN bytes_uploaded BIGINT NOT NULL DEFAULT 0;
UPDATE usage_minutes SET bytes_to_viewers = bytes_downloaded;
