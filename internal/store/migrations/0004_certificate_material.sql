-- Issued certificate material and the certificate lifecycle (issue 8).
--
-- chain_pem is the issued chain (leaf first), sealed_key its private key sealed with the operator's
-- key-encryption key (internal/ca: AES-256-GCM, never stored in the clear). next_check_at (server clock,
-- unix microseconds) is when the lifecycle worker looks at the certificate next: validation re-checks,
-- issuance, renewal. A worker claims a certificate by moving next_check_at forward inside a transaction,
-- so it doubles as a lease that expires by itself if the process dies.
ALTER TABLE certificates ADD COLUMN chain_pem TEXT NOT NULL DEFAULT '';
ALTER TABLE certificates ADD COLUMN sealed_key TEXT NOT NULL DEFAULT '';
ALTER TABLE certificates ADD COLUMN next_check_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX certificates_next_check ON certificates (next_check_at) WHERE deleted_at IS NULL;

-- Key material that belongs to the installation rather than to an account: the root of sailcdn's own
-- certificate authority ('root') and the certificate of the distributions' default domain names
-- ('edge:<edge domain>'). Shared by every process on one database, so all nodes use the same CA.
CREATE TABLE pki (
	name       TEXT PRIMARY KEY,
	chain_pem  TEXT NOT NULL,
	sealed_key TEXT NOT NULL,
	issued_at  BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);

-- DNS-01 challenge answers for ACME issuance: sailcdn's DNS responder answers TXT queries for
-- <label>.<acme dns zone> from here, so whichever process the ACME CA's query reaches answers it.
CREATE TABLE acme_challenges (
	fqdn       TEXT NOT NULL,
	value      TEXT NOT NULL,
	expires_at BIGINT NOT NULL,
	PRIMARY KEY (fqdn, value)
);
