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

-- One row per tag of a published post (none for drafts), kept with the post's `tags`
-- in the same transaction: a tag's page is one indexed query.
CREATE TABLE IF NOT EXISTS post_tag (
  tag TEXT NOT NULL,
  post_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tag, post_id)
);

CREATE INDEX IF NOT EXISTS post_tag_newest ON post_tag (tag, created_at DESC, post_id DESC);
CREATE INDEX IF NOT EXISTS post_tag_post ON post_tag (post_id);

-- Members by their id (storage.member_id of issuer and sub), written at login.
CREATE TABLE IF NOT EXISTS member (
  id TEXT PRIMARY KEY,
  iss TEXT NOT NULL,
  sub TEXT NOT NULL,
  name TEXT NOT NULL,
  first_seen INTEGER NOT NULL,
  last_login INTEGER
);
