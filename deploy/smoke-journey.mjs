// The smoke journey of deploy/container-smoke.sh, over the public API of a running deployment:
// the admin signs in and creates a school and its account; the school signs in, creates an entry,
// uploads a clip, waits until the video is ready (a worker ran the ingest), downloads the preview
// and the poster (302 to a presigned URL on S3_PUBLIC_ENDPOINT, then the bytes from the bucket)
// and submits the entry. Prints what each step answered and how long it took; exits 1 on the
// first surprise.
//   CX_URL=http://127.0.0.1:38080 CX_ADMIN_PASSWORD=… CX_CLIP=clip.mp4 CX_WORK=/tmp/dir node deploy/smoke-journey.mjs
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const base = process.env.CX_URL;
const adminPassword = process.env.CX_ADMIN_PASSWORD;
const clipPath = process.env.CX_CLIP;
const work = process.env.CX_WORK;
if (!base || !adminPassword || !clipPath || !work) {
  console.error('set CX_URL, CX_ADMIN_PASSWORD, CX_CLIP and CX_WORK');
  process.exit(2);
}
const started = Date.now();
const say = (msg) => console.log(`  smoke [${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${msg}`);
const fail = (msg) => {
  console.error(`smoke journey FAILED: ${msg}`);
  process.exit(1);
};

/** A JSON API call; fails the journey unless the status is `expect`. */
async function api(method, url, { token, json, form, expect = 200 } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  let body;
  if (json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form) body = form;
  const res = await fetch(`${base}${url}`, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  if (res.status !== expect) fail(`${method} ${url} → ${res.status} (expected ${expect}): ${text.slice(0, 500)}`);
  say(`${method} ${url} → ${res.status}`);
  return text ? JSON.parse(text) : undefined;
}

/** GET a media URL of the API: must redirect (302) into the bucket; returns the bytes from there. */
async function download(url, token) {
  const res = await fetch(`${base}${url}`, { headers: { authorization: `Bearer ${token}` }, redirect: 'manual' });
  let bytes;
  let via = 'streamed by the app';
  if (res.status === 302) {
    const location = res.headers.get('location') ?? '';
    if (!location.startsWith(process.env.CX_S3_PUBLIC ?? 'http://127.0.0.1:')) fail(`${url}: redirect to an unexpected place: ${location}`);
    const object = await fetch(location);
    if (object.status !== 200) fail(`${url}: the presigned URL answered ${object.status}: ${await object.text()}`);
    bytes = Buffer.from(await object.arrayBuffer());
    via = `302 → presigned ${new URL(location).host}${new URL(location).pathname}`;
  } else if (res.status === 200) {
    bytes = Buffer.from(await res.arrayBuffer());
  } else {
    fail(`GET ${url} → ${res.status}: ${(await res.text()).slice(0, 300)}`);
  }
  say(`GET ${url} → ${via}, ${bytes.length} bytes`);
  return bytes;
}

async function main() {
  const ready = await fetch(`${base}/readyz`);
  if (ready.status !== 200) fail(`/readyz → ${ready.status}`);
  const login = await fetch(`${base}/login`);
  if (login.status !== 200 || !/text\/html/.test(login.headers.get('content-type') ?? '')) fail(`GET /login → ${login.status}`);
  say('GET /readyz → 200, GET /login → 200 html');

  const admin = (await api('POST', '/api/v1/auth/token', { json: { username: 'admin', password: adminPassword } })).token;
  const campaign = await api('GET', '/api/v1/campaign', { token: admin });
  const county = (await api('GET', '/api/v1/counties', { token: admin }))[0];
  if (!county?.id) fail('no county in GET /api/v1/counties');
  const level = campaign.levels[0].code;
  const suffix = randomBytes(4).toString('hex');
  const school = await api('POST', '/api/v1/schools', {
    token: admin,
    json: { name: `容器冒烟测试学校-${suffix}`, countyId: county.id, level },
    expect: 201,
  });
  const schoolPassword = randomBytes(12).toString('base64url');
  const username = `smoke-school-${suffix}`;
  await api('POST', '/api/v1/users', {
    token: admin,
    json: { username, password: schoolPassword, displayName: '冒烟测试学校账号', role: 'school', countyId: county.id, schoolId: school.id },
    expect: 201,
  });

  // A password the admin typed must be replaced at first sign-in (403 password_change_required until then).
  const first = (await api('POST', '/api/v1/auth/token', { json: { username, password: schoolPassword } })).token;
  await api('GET', '/api/v1/entries', { token: first, expect: 403 });
  const ownPassword = randomBytes(12).toString('base64url');
  await api('POST', '/api/v1/me/password', { token: first, json: { currentPassword: schoolPassword, newPassword: ownPassword }, expect: 204 });
  const token = (await api('POST', '/api/v1/auth/token', { json: { username, password: ownPassword } })).token;
  const song = campaign.songs.find((s) => s.designated) ?? campaign.songs[0];
  const entry = await api('POST', '/api/v1/entries', {
    token,
    json: { title: '容器冒烟测试', songId: song.id, form: campaign.forms[0].code, level, performerCount: 12 },
    expect: 201,
  });

  const clip = readFileSync(clipPath);
  const form = new FormData();
  form.append('video', new Blob([clip], { type: 'video/mp4' }), 'smoke.mp4');
  const uploadStarted = Date.now();
  const uploaded = await api('POST', `/api/v1/entries/${entry.id}/video`, { token, form, expect: 202 });
  if (uploaded.video?.status !== 'processing') fail(`after the upload the video is ${uploaded.video?.status}, expected processing`);

  let current = uploaded;
  while (current.video?.status === 'processing') {
    if (Date.now() - uploadStarted > 180_000) fail('the video was not ready within 180 s');
    await new Promise((r) => setTimeout(r, 500));
    const res = await fetch(`${base}/api/v1/entries/${entry.id}`, { headers: { authorization: `Bearer ${token}` } });
    if (res.status !== 200) fail(`GET /api/v1/entries/${entry.id} → ${res.status}`);
    current = await res.json();
  }
  if (current.video?.status !== 'ready') fail(`the video ended ${current.video?.status}: ${JSON.stringify(current.video)}`);
  say(
    `video ready ${((Date.now() - uploadStarted) / 1000).toFixed(1)} s after the upload began (${current.video.originalName}, ${current.video.sizeBytes} bytes)`,
  );

  const preview = await download(`/api/v1/entries/${entry.id}/preview`, token);
  const previewPath = path.join(work, 'preview.mp4');
  writeFileSync(previewPath, preview);
  const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', previewPath], { encoding: 'utf8' }));
  const video = probe.streams.find((s) => s.codec_type === 'video');
  const audio = probe.streams.find((s) => s.codec_type === 'audio');
  const duration = Number(probe.format.duration);
  if (video?.codec_name !== 'h264' || audio?.codec_name !== 'aac' || !(Math.abs(duration - 3) < 0.5)) {
    fail(`the preview is not a 3 s H.264/AAC MP4: ${video?.codec_name}/${audio?.codec_name}, ${duration} s`);
  }
  say(`preview: ${video.codec_name} ${video.width}×${video.height} + ${audio.codec_name}, ${duration.toFixed(2)} s`);

  const poster = await download(`/api/v1/entries/${entry.id}/poster`, token);
  if (poster[0] !== 0xff || poster[1] !== 0xd8) fail('the poster is not a JPEG');

  const submitted = await api('POST', `/api/v1/entries/${entry.id}/submit`, { token });
  if (submitted.status !== 'submitted') fail(`after submit the entry is ${submitted.status}`);
  say(`entry ${submitted.code} submitted; journey done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((err) => fail(err?.stack ?? String(err)));
