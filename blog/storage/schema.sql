PRAGMA journal_mode = WAL;

CREATE TABLE IF NOT EXISTS post (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  author_sub TEXT NOT NULL,
  author_name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  -- NULL in rows from before they were stored (sqlite.MIGRATIONS adds them to old
  -- files); such a row gets them on its first read.
  author_iss TEXT,
  body_html TEXT,
  excerpt TEXT,
  -- NULL in rows saved before member ids: derived from author_iss and author_sub.
  author_id TEXT
);

CREATE INDEX IF NOT EXISTS post_newest ON post (created_at DESC, id DESC);

-- Members by their id (storage.member_id of issuer and sub), written at login.
CREATE TABLE IF NOT EXISTS member (
  id TEXT PRIMARY KEY,
  iss TEXT NOT NULL,
  sub TEXT NOT NULL,
  name TEXT NOT NULL,
  first_seen INTEGER NOT NULL,
  last_login INTEGER
);
