-- 唱响 foundation: organisation, accounts, sessions, campaign, audit log.
-- Frozen once landed: later changes go in new numbered files.

CREATE TABLE counties (
  id          text PRIMARY KEY,
  code        text NOT NULL UNIQUE,
  name        text NOT NULL UNIQUE,
  sort        integer NOT NULL DEFAULT 0
);

CREATE TABLE schools (
  id          text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  name        text NOT NULL,
  county_id   text REFERENCES counties(id),          -- NULL: 市直学校, answers to the city directly
  level       text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX schools_county_name_uq ON schools (coalesce(county_id, ''), name);
CREATE INDEX schools_county_idx ON schools (county_id, name);

CREATE TABLE users (
  id             text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  username       text NOT NULL,
  display_name   text NOT NULL,
  role           text NOT NULL CHECK (role IN ('school', 'county', 'judge', 'admin', 'tv')),
  county_id      text REFERENCES counties(id),
  school_id      text REFERENCES schools(id),
  password_hash  text NOT NULL,
  disabled_at    timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  CHECK (role <> 'school' OR school_id IS NOT NULL),
  CHECK (role <> 'county' OR county_id IS NOT NULL),
  CHECK (role NOT IN ('admin', 'tv') OR (county_id IS NULL AND school_id IS NULL))
);
CREATE UNIQUE INDEX users_username_uq ON users (lower(username));
CREATE INDEX users_county_idx ON users (county_id);
CREATE INDEX users_school_idx ON users (school_id);

-- Browser sessions. The cookie carries a random secret; only its SHA-256 is stored.
CREATE TABLE sessions (
  id            text PRIMARY KEY,                     -- sha256(secret), hex
  user_id       text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf_token    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL                 -- absolute expiry
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- API bearer tokens (revocable). Only the SHA-256 is stored.
CREATE TABLE api_tokens (
  id            text PRIMARY KEY,                     -- sha256(token), hex
  user_id       text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  revoked_at    timestamptz,
  last_used_at  timestamptz
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

-- Failed logins, for rate limiting across every web process.
CREATE TABLE login_failures (
  id            bigserial PRIMARY KEY,
  username      text NOT NULL,
  ip            text NOT NULL,
  at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_username_idx ON login_failures (username, at);
CREATE INDEX login_failures_ip_idx ON login_failures (ip, at);

CREATE TABLE campaigns (
  id                  text PRIMARY KEY,
  title               text NOT NULL,
  max_duration_s      integer NOT NULL DEFAULT 900,
  created_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE songs (
  id           text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  campaign_id  text NOT NULL REFERENCES campaigns(id),
  title        text NOT NULL,
  designated   boolean NOT NULL,
  sort         integer NOT NULL DEFAULT 0
);
CREATE INDEX songs_campaign_idx ON songs (campaign_id, sort);

CREATE TABLE performance_forms (
  code   text PRIMARY KEY,
  label  text NOT NULL,
  sort   integer NOT NULL DEFAULT 0
);

CREATE TABLE levels (
  code   text PRIMARY KEY,
  label  text NOT NULL,
  sort   integer NOT NULL DEFAULT 0
);

CREATE TABLE periods (
  id             text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  campaign_id    text NOT NULL REFERENCES campaigns(id),
  name           text NOT NULL,
  submit_by      timestamptz NOT NULL,
  forward_by     timestamptz NOT NULL,
  quota          integer NOT NULL CHECK (quota >= 0),   -- default forwarded entries per county
  sort           integer NOT NULL DEFAULT 0,
  CHECK (forward_by >= submit_by)
);
CREATE INDEX periods_campaign_idx ON periods (campaign_id, sort);

-- Who did what, when, from which state to which, and why.
CREATE TABLE audit_log (
  id            bigserial PRIMARY KEY,
  at            timestamptz NOT NULL DEFAULT now(),
  actor_id      text REFERENCES users(id) ON DELETE SET NULL,
  actor_name    text NOT NULL,
  action        text NOT NULL,
  object_type   text NOT NULL,
  object_id     text NOT NULL,
  from_state    text,
  to_state      text,
  reason        text,
  detail        jsonb
);
CREATE INDEX audit_log_object_idx ON audit_log (object_type, object_id, at);
CREATE INDEX audit_log_at_idx ON audit_log (at);

-- ---------------------------------------------------------------- seed (editable afterwards)
INSERT INTO counties (id, code, name, sort) VALUES
  ('c-lishi',     'lishi',     '离石区', 1),
  ('c-xiaoyi',    'xiaoyi',    '孝义市', 2),
  ('c-fenyang',   'fenyang',   '汾阳市', 3),
  ('c-wenshui',   'wenshui',   '文水县', 4),
  ('c-jiaocheng', 'jiaocheng', '交城县', 5),
  ('c-xingxian',  'xingxian',  '兴县',   6),
  ('c-linxian',   'linxian',   '临县',   7),
  ('c-liulin',    'liulin',    '柳林县', 8),
  ('c-shilou',    'shilou',    '石楼县', 9),
  ('c-lanxian',   'lanxian',   '岚县',   10),
  ('c-fangshan',  'fangshan',  '方山县', 11),
  ('c-zhongyang', 'zhongyang', '中阳县', 12),
  ('c-jiaokou',   'jiaokou',   '交口县', 13);

INSERT INTO campaigns (id, title) VALUES
  ('main', '学习党的二十大精神、唱响青春主旋律');

INSERT INTO songs (campaign_id, title, designated, sort) VALUES
  ('main', '党啊，亲爱的妈妈', true, 1),
  ('main', '我们的祖国歌甜花香', true, 2),
  ('main', '吕梁颂', true, 3),
  ('main', '每当我走过老师窗前', true, 4),
  ('main', '长大后我就成了你', true, 5);

INSERT INTO performance_forms (code, label, sort) VALUES
  ('chorus', '合唱', 1),
  ('gesture_dance', '音乐手势舞', 2),
  ('dance_drama', '音乐舞蹈剧', 3),
  ('class_singing', '班级同唱', 4),
  ('teacher_singing', '教师演唱', 5),
  ('other', '其他', 6);

INSERT INTO levels (code, label, sort) VALUES
  ('kindergarten', '幼儿园', 1),
  ('primary', '小学', 2),
  ('junior', '初中', 3),
  ('senior', '高中', 4),
  ('vocational', '中职', 5),
  ('teacher', '教师', 6);

-- One period open from the day the database is created, so a fresh install can be tried at once.
INSERT INTO periods (campaign_id, name, submit_by, forward_by, quota, sort) VALUES
  ('main', '第一期报送', date_trunc('day', now()) + interval '60 days', date_trunc('day', now()) + interval '67 days', 10, 1);
