-- shared_links: read-only links to a site's analytics, made and revoked by its team
-- (collector.admin.share_links). The link's URL carries its id and an HMAC of it under the
-- server's share key, so nothing secret is stored here; a password, when the link has
-- one, is kept as its scrypt hash. A revoked link answers nothing from the moment the
-- row is written.
-- ReplacingMergeTree(updated_at): revoking writes the row again; readers use FINAL.
CREATE TABLE IF NOT EXISTS shared_links
(
    site LowCardinality(String),
    link_id String,
    label String,
    password_hash String,
    created_at DateTime64(3, 'UTC'),
    created_by String,
    revoked_at Nullable(DateTime64(3, 'UTC')),
    updated_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (site, link_id);
