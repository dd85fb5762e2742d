//! The uploads' statements, the same SQL on both backends (each binds its own id and time types).

pub(super) const INSERT_UPLOAD: &str = "INSERT INTO upload \
       (id, kind, object_key, content_type, bytes, sha256, created_by, via_agent, created_at, file_name) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

pub(super) const UPLOAD_BY_ID: &str = "SELECT * FROM upload WHERE id = $1";
