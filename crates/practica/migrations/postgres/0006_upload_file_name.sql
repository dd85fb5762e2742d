-- Files sent to POST /api/v5/uploads keep the name they were sent with (for downloads and
-- exports); photos read by ocr-extract have none.
ALTER TABLE upload ADD COLUMN file_name TEXT;
