-- The last verdict computed for each domain (and whether only trusted reports counted),
-- so the portfolio does not assess every domain on every view.
CREATE TABLE assessments (
    policy_domain TEXT    NOT NULL,
    trusted_only  BOOLEAN NOT NULL,
    verdict       TEXT    NOT NULL,
    headline      TEXT    NOT NULL,
    computed_at   BIGINT  NOT NULL,
    PRIMARY KEY (policy_domain, trusted_only)
);
