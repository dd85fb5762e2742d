-- Uploads: files kept in object storage (photos of handwritten work now; audio and exports
-- later). The bytes live in the object store under `object_key`; the row says what they are and
-- who sent them. An attempt made from a photo points at it, so its detail can hand out a signed,
-- expiring link.
CREATE TABLE upload (
    id            uuid PRIMARY KEY,
    kind          text NOT NULL,
    object_key    text NOT NULL,
    content_type  text NOT NULL,
    bytes         bigint NOT NULL,
    sha256        text NOT NULL,
    created_by    text NOT NULL,
    via_agent     boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL
);
CREATE INDEX upload_created_by ON upload (created_by, created_at);

ALTER TABLE attempt ADD COLUMN photo_id uuid REFERENCES upload (id);
