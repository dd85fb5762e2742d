-- Uploads (see migrations/postgres/0004 for the why).
CREATE TABLE upload (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    object_key    TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    bytes         INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    via_agent     INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
);
CREATE INDEX upload_created_by ON upload (created_by, created_at);

ALTER TABLE attempt ADD COLUMN photo_id TEXT REFERENCES upload (id);
