import crypto from 'node:crypto';
import { createDelivery, createDeliveryChannels } from '../../../src/notifications/delivery';
import { notify, NOTIFY_DELIVER_JOB, DELIVERY_WINDOW_MS } from '../../../src/notifications/notify';
import { createLogger } from '../../../src/platform/logger';
import { createTestApp, type TestApp } from '../../support/app';
import { startHttpReceiver, startSmtpReceiver } from '../../support/receivers';

/**
 * Email and group robots against a real SMTP server (smtp-server) and a real HTTP receiver, both on
 * 127.0.0.1: the right people, once; retried after a receiver error; a digest under a burst; opt-out.
 */
describe('notification delivery: email and group robots, queued, once each', () => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
  let hooks: Awaited<ReturnType<typeof startHttpReceiver>>;
  beforeAll(async () => {
    smtp = await startSmtpReceiver();
    hooks = await startHttpReceiver();
    t = await createTestApp({ env: { SMTP_URL: smtp.url, SMTP_FROM: '唱响 <noreply@changxiang.test>', PUBLIC_URL: 'https://changxiang.test' } });
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
    await hooks.close();
  });
  beforeEach(async () => {
    await runDelivery().catch(() => undefined); // nothing left over from the previous case
    // Nor its delivery jobs (a case that moves its own clock leaves retries queued for later).
    await db().deleteFrom('jobs').where('type', '=', NOTIFY_DELIVER_JOB).where('status', '=', 'queued').execute();
    smtp.mails.length = 0;
    hooks.posts.length = 0;
    hooks.script.length = 0;
  });

  const db = () => t.container.db;
  const delivery = () =>
    createDelivery({ db: db(), config: t.config.notifications, channels: createDeliveryChannels(t.config.notifications), logger: createLogger('silent') });
  const runDelivery = () => delivery().run();
  const admin = () => t.container.db.selectFrom('users').selectAll().where('username', '=', 'admin').executeTakeFirstOrThrow();
  const asActor = async () => {
    const a = await admin();
    return { id: a.id, username: a.username, displayName: a.display_name, role: a.role, countyId: null, schoolId: null };
  };
  async function withEmail(userId: string, email: string, emailNotify = true) {
    const u = await t.container.db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirstOrThrow();
    await t.container.notifications.savePreferences(
      { id: u.id, username: u.username, displayName: u.display_name, role: u.role, countyId: u.county_id, schoolId: u.school_id },
      { email, emailNotify },
    );
  }

  it('when a school is told its entry was returned, then each of its accounts with email gets one mail, an opted-out one none, and a second run sends nothing again', async () => {
    const school = await t.createSchool({ countyId: 'c-lishi' });
    const a = await t.createUser('school', { schoolId: school.id });
    const b = await t.createUser('school', { schoolId: school.id });
    const optedOut = await t.createUser('school', { schoolId: school.id });
    const stranger = await t.createUser('school');
    await withEmail(a.id, 'a@school.test');
    await withEmail(b.id, 'b@school.test');
    await withEmail(optedOut.id, 'quiet@school.test', false);
    await withEmail(stranger.id, 'stranger@school.test');

    await notify(db(), {
      kind: 'entry.returned',
      recipients: { schoolId: school.id },
      title: '《歌唱祖国》被退回',
      body: '退回原因：画面不完整',
      link: '/entries/e1',
    });
    const job = await db()
      .selectFrom('jobs')
      .select(['run_at', 'dedupe_key'])
      .where('type', '=', NOTIFY_DELIVER_JOB)
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(job.run_at.getTime() % DELIVERY_WINDOW_MS).toBe(0); // runs when its window ends, never inside the request

    await runDelivery();
    expect(smtp.mails.map((m) => m.to[0]).sort()).toEqual(['a@school.test', 'b@school.test']);
    const mail = smtp.mails[0];
    expect(mail.subject).toBe('《歌唱祖国》被退回');
    expect(mail.text).toContain('退回原因：画面不完整');
    expect(mail.text).toContain('https://changxiang.test/entries/e1');

    await runDelivery();
    await runDelivery();
    expect(smtp.mails).toHaveLength(2);
  });

  it('when twelve messages reach one person in one window, then they get one digest mail listing all twelve', async () => {
    const judge = await t.createUser('judge');
    await withEmail(judge.id, 'judge@city.test');
    for (let i = 1; i <= 12; i++)
      await notify(db(), { kind: 'round.assigned', recipients: { userIds: [judge.id] }, title: `第 ${i} 条：评审已开始`, link: '/judging' });
    await runDelivery();
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0].subject).toBe('唱响：您有 12 条新消息');
    for (let i = 1; i <= 12; i++) expect(smtp.mails[0].text).toContain(`第 ${i} 条：评审已开始`);
  });

  it('when a person turns email off after the message was written, then nothing is mailed to them', async () => {
    const tv = await t.createUser('tv');
    await withEmail(tv.id, 'tv@tv.test');
    await notify(db(), { kind: 'master.ready', recipients: { userIds: [tv.id] }, title: '播出母版已生成' });
    await withEmail(tv.id, 'tv@tv.test', false);
    await runDelivery();
    expect(smtp.mails).toHaveLength(0);
  });

  it('when a county has a WeCom robot and the city a signed DingTalk robot, then each group gets its own events once, and DingTalk’s signature verifies', async () => {
    const actor = await asActor();
    const secret = `SEC${crypto.randomBytes(16).toString('hex')}`;
    await t.container.notifications.addRobot(actor, {
      name: '离石区群',
      kind: 'wecom',
      countyId: 'c-lishi',
      url: `${hooks.url}/wecom/lishi?key=k1`,
      enabled: true,
    });
    await t.container.notifications.addRobot(actor, {
      name: '市教育局群',
      kind: 'dingtalk',
      countyId: 'city',
      url: `${hooks.url}/dingtalk?access_token=t1`,
      secret,
      enabled: true,
    });
    const school = await t.createSchool({ countyId: 'c-lishi' });
    await t.createUser('school', { schoolId: school.id });
    await t.createUser('school', { schoolId: school.id });
    const elsewhere = await t.createSchool({ countyId: 'c-xiaoyi' });
    await t.createUser('school', { schoolId: elsewhere.id });

    await notify(db(), { kind: 'entry.returned', recipients: { schoolId: school.id }, title: '《我和我的祖国》被退回', link: '/entries/e2' });
    await notify(db(), { kind: 'entry.returned', recipients: { schoolId: elsewhere.id }, title: '孝义的作品被退回' });
    await notify(db(), { kind: 'entry.forwarded', recipients: { roles: ['admin'] }, title: '离石区报送了 3 件作品' });
    await runDelivery();

    const wecom = hooks.posts.filter((p) => p.path === '/wecom/lishi');
    expect(wecom).toHaveLength(1); // two school accounts, one event: one post
    expect(wecom[0].query.get('key')).toBe('k1');
    expect(wecom[0].body).toEqual({ msgtype: 'markdown', markdown: { content: expect.stringContaining('《我和我的祖国》被退回') } });
    expect(JSON.stringify(wecom[0].body)).toContain('https://changxiang.test/entries/e2');
    expect(JSON.stringify(hooks.posts)).not.toContain('孝义的作品被退回');

    const ding = hooks.posts.filter((p) => p.path === '/dingtalk');
    expect(ding).toHaveLength(1);
    expect(ding[0].body).toMatchObject({
      msgtype: 'markdown',
      markdown: { title: '离石区报送了 3 件作品', text: expect.stringContaining('离石区报送了 3 件作品') },
    });
    const timestamp = ding[0].query.get('timestamp')!;
    const expected = crypto.createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
    expect(ding[0].query.get('sign')).toBe(expected); // URLSearchParams has decoded the URL-encoded sign
    expect(Math.abs(Date.now() - Number(timestamp))).toBeLessThan(60_000);

    await runDelivery();
    expect(hooks.posts).toHaveLength(2);
  });

  it('when a robot answers 500, then an error code, then 200, then each failure waits longer before the next try, and the group gets the message exactly once', async () => {
    const actor = await asActor();
    await t.container.notifications.addRobot(actor, { name: '临县群', kind: 'wecom', countyId: 'c-linxian', url: `${hooks.url}/wecom/linxian`, enabled: true });
    const school = await t.createSchool({ countyId: 'c-linxian' });
    await t.createUser('school', { schoolId: school.id });
    hooks.script.push(500, { status: 200, body: { errcode: 45009, errmsg: 'api freq out of limit' } });
    let clock = Date.now();
    const run = () =>
      createDelivery({
        db: db(),
        config: t.config.notifications,
        channels: createDeliveryChannels(t.config.notifications),
        logger: createLogger('silent'),
        now: () => new Date(clock),
      }).run();
    const posts = () => hooks.posts.filter((p) => p.path === '/wecom/linxian');

    await notify(db(), { kind: 'video.failed', recipients: { schoolId: school.id }, title: '视频处理失败' });
    const first = await run();
    expect(first).toMatchObject({ sent: 0, failed: 1, retryAt: new Date(clock + 30_000) });
    // A delivery job waits on the queue for the moment the retry is due.
    expect(
      await db()
        .selectFrom('jobs')
        .select(['status', 'run_at'])
        .where('dedupe_key', '=', `${NOTIFY_DELIVER_JOB}:retry:${clock + 30_000}`)
        .executeTakeFirst(),
    ).toEqual({ status: 'queued', run_at: new Date(clock + 30_000) });
    expect(await run()).toMatchObject({ sent: 0, failed: 0 }); // not due yet: nothing posted
    expect(posts()).toHaveLength(1);

    clock += 30_000;
    const second = await run(); // a 200 with an error code is a failure too
    expect(second).toMatchObject({ sent: 0, failed: 1, retryAt: new Date(clock + 120_000) });
    clock += 120_000;
    expect(await run()).toMatchObject({ sent: 1, failed: 0, retryAt: null });
    clock += 3_600_000;
    await run();
    expect(posts()).toHaveLength(3); // 500, errcode, accepted — and nothing after it was accepted
    const robot = await db().selectFrom('notification_robots').select('id').where('name', '=', '临县群').executeTakeFirstOrThrow();
    const batch = await db().selectFrom('notification_batches').selectAll().where('target', '=', robot.id).executeTakeFirstOrThrow();
    expect(batch).toMatchObject({ status: 'sent', attempts: 3 });
  });

  it('when a mail server stays down, then a mail is tried ten times over about a day, and the robots page shows the next try and then that it gave up', async () => {
    const tv = await t.createUser('tv');
    await withEmail(tv.id, 'down@tv.test');
    let clock = Date.now();
    const failing = {
      sendMail: async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:25');
      },
      postRobot: async () => undefined,
    };
    const run = () =>
      createDelivery({ db: db(), config: t.config.notifications, channels: failing, logger: createLogger('silent'), now: () => new Date(clock) }).run();
    await notify(db(), { kind: 'master.ready', recipients: { userIds: [tv.id] }, title: '母版已生成（邮件服务器停机）' });
    const start = clock;
    const tries: number[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await run();
      if (r.failed) tries.push(clock - start);
      if (!r.retryAt) break;
      if (i === 0) {
        const { agent } = await t.browser('admin');
        const page = (await agent.get('/notifications/robots').expect(200)).text;
        expect(page).toContain('母版已生成（邮件服务器停机）');
        expect(page).toContain('重试</td>');
      }
      clock = r.retryAt.getTime();
    }
    // Ten tries: at once, then after 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, 8 h.
    expect(tries.map((ms) => Math.round(ms / 1000))).toEqual([0, 30, 150, 750, 2550, 6150, 13350, 27750, 56550, 85350]);
    const batch = await db()
      .selectFrom('notification_batches')
      .selectAll()
      .where('subject', '=', '母版已生成（邮件服务器停机）')
      .where('channel', '=', 'email') // (the city's robot from an earlier case got its post)
      .executeTakeFirstOrThrow();
    expect(batch).toMatchObject({ status: 'pending', attempts: 10, next_attempt_at: null });
    expect(batch.last_error).toContain('ECONNREFUSED');
    const { agent } = await t.browser('admin');
    expect((await agent.get('/notifications/robots').expect(200)).text).toContain('已放弃（约一天内重试 10 次均失败）');
    // Given up: later runs leave it alone.
    clock += 86_400_000;
    expect(await run()).toMatchObject({ failed: 0, retryAt: null });
  });

  it('when the delivery job runs through the queue and the receiver fails once, then the job queues its own retry and that job sends it', async () => {
    const actor = await asActor();
    await t.container.notifications.addRobot(actor, {
      name: '方山县群',
      kind: 'dingtalk',
      countyId: 'c-fangshan',
      url: `${hooks.url}/ding/fangshan`,
      enabled: true,
    });
    const school = await t.createSchool({ countyId: 'c-fangshan' });
    await t.createUser('school', { schoolId: school.id });
    hooks.script.push(502);
    const before = await db()
      .selectFrom('jobs')
      .select((eb) => eb.fn.max('id').as('id'))
      .executeTakeFirstOrThrow();
    const newJobs = () =>
      db()
        .selectFrom('jobs')
        .select(['id', 'status'])
        .where('type', '=', NOTIFY_DELIVER_JOB)
        .where('id', '>', Number(before.id ?? 0))
        .orderBy('id')
        .execute();
    await notify(db(), { kind: 'entry.awarded', recipients: { schoolId: school.id }, title: '《少年》获得一等奖' });
    await db()
      .updateTable('jobs')
      .set({ run_at: new Date(Date.now() - 1000) })
      .where('type', '=', NOTIFY_DELIVER_JOB)
      .where('status', '=', 'queued')
      .execute();

    // Both jobs done: the window's (whose post failed) and the retry it queued (whose post went through).
    const retriedAndDone = async () => (await newJobs()).filter((j) => j.status === 'succeeded').length >= 2;
    const worker = t.container.startWorker();
    try {
      const deadline = Date.now() + 20_000;
      // Until the second post has arrived and the job that made it has committed its success (the
      // receiver sees the post before the worker records it: on a loaded machine, seconds before).
      while ((hooks.posts.filter((p) => p.path === '/ding/fangshan').length < 2 || !(await retriedAndDone())) && Date.now() < deadline) {
        // Time passes: the queued jobs and the batch's wait before its retry are due now.
        await db()
          .updateTable('jobs')
          .set({ run_at: new Date(Date.now() - 1000) })
          .where('type', '=', NOTIFY_DELIVER_JOB)
          .where('status', '=', 'queued')
          .execute();
        await db()
          .updateTable('notification_batches')
          .set({ next_attempt_at: new Date(Date.now() - 1000) })
          .where('status', '=', 'pending')
          .execute();
        worker.nudge();
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await worker.stop({ graceMs: 2000 });
    }
    expect(hooks.posts.filter((p) => p.path === '/ding/fangshan')).toHaveLength(2);
    expect((await newJobs()).map((j) => j.status)).toEqual(['succeeded', 'succeeded']); // the window's job, then the retry it queued
  });
});
