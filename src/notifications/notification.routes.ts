import { Router, type Request } from 'express';
import type { CurrentUser } from '../accounts/account.types';
import { canUse } from '../accounts/policy';
import type { SchoolService } from '../org/school.service';
import { handleForm } from '../web/forms';
import { safeNext } from '../web/navigation';
import { currentUser } from '../web/request-context';
import { CITY_SCOPE_LABEL, ROBOT_URL_HINT } from './notification.messages';
import type { NotificationService } from './notification.service';

export interface NotificationDeps {
  notifications: NotificationService;
  schools: SchoolService;
}

/** /api/v1: my messages, mark read, my email settings; the admin's group robots. */
export function notificationApi(deps: NotificationDeps): Router {
  const router = Router();
  router.get('/notifications', async (req, res) => {
    res.json(await deps.notifications.list(currentUser(req), req.query));
  });
  router.post('/notifications/read', async (req, res) => {
    res.json(await deps.notifications.markRead(currentUser(req), req.body));
  });
  router.get('/notifications/preferences', async (req, res) => {
    res.json(await deps.notifications.preferences(currentUser(req)));
  });
  router.put('/notifications/preferences', async (req, res) => {
    res.json(await deps.notifications.savePreferences(currentUser(req), req.body));
  });
  router.get('/notifications/robots', async (req, res) => {
    res.json({ items: await deps.notifications.robots(currentUser(req)) });
  });
  router.post('/notifications/robots', async (req, res) => {
    res.status(201).json(await deps.notifications.addRobot(currentUser(req), req.body));
  });
  router.delete('/notifications/robots/:id', async (req, res) => {
    await deps.notifications.removeRobot(currentUser(req), req.params.id);
    res.status(204).end();
  });
  return router;
}

const messageQuery = (req: Request) => ({ before: req.query.before, unread: req.query.unread, limit: 20 });

/** 消息: the message centre, my notification settings, and (admin) the group robots. */
export function notificationPages(deps: NotificationDeps): Router {
  const router = Router();

  router.get('/notifications', async (req, res) => {
    const user = currentUser(req);
    const page = await deps.notifications.list(user, messageQuery(req));
    const unreadOnly = req.query.unread === '1';
    res.render('notifications/list', {
      title: '消息',
      ...page,
      unreadOnly,
      isFirstPage: !req.query.before,
      nextHref: page.nextBefore ? `/notifications?before=${page.nextBefore}${unreadOnly ? '&unread=1' : ''}` : null,
      canManageRobots: canUse(user, 'notificationSettings'),
    });
  });

  router.post('/notifications/read', async (req, res) => {
    await deps.notifications.markRead(currentUser(req), req.body);
    res.redirect(303, safeNext((req.body as Record<string, unknown>)?.next ?? '/notifications'));
  });

  /** Opening a message marks it read and goes to the page it links to. */
  router.post('/notifications/:id/open', async (req, res) => {
    const link = await deps.notifications.open(currentUser(req), req.params.id);
    res.redirect(303, link ? safeNext(link) : '/notifications');
  });

  const settingsData = async (user: CurrentUser, extra: Record<string, unknown> = {}) => ({
    title: '通知设置',
    prefs: await deps.notifications.preferences(user),
    ...extra,
  });
  router.get('/notifications/settings', async (req, res) => {
    res.render('notifications/settings', await settingsData(currentUser(req), { saved: req.query.saved === '1' }));
  });
  router.post('/notifications/settings', async (req, res) => {
    const user = currentUser(req);
    const values = req.body as Record<string, unknown>;
    await handleForm(res, { view: 'notifications/settings', data: await settingsData(user, { values }) }, async () => {
      await deps.notifications.savePreferences(user, values);
      res.redirect(303, '/notifications/settings?saved=1');
    });
  });

  const robotsData = async (user: CurrentUser, extra: Record<string, unknown> = {}) => {
    const [robots, failed, counties] = await Promise.all([
      deps.notifications.robots(user),
      deps.notifications.failedDeliveries(user),
      deps.schools.listCounties(user),
    ]);
    return {
      title: '群机器人与邮件发送',
      robots,
      failed,
      counties,
      cityLabel: CITY_SCOPE_LABEL,
      hints: ROBOT_URL_HINT,
      values: { kind: 'wecom', enabled: 'on' },
      ...extra,
    };
  };
  router.get('/notifications/robots', async (req, res) => {
    res.render('notifications/robots', await robotsData(currentUser(req), { saved: req.query.saved }));
  });
  router.post('/notifications/robots', async (req, res) => {
    const user = currentUser(req);
    const values = req.body as Record<string, unknown>;
    await handleForm(res, { view: 'notifications/robots', data: await robotsData(user, { values }) }, async () => {
      await deps.notifications.addRobot(user, values);
      res.redirect(303, '/notifications/robots?saved=added');
    });
  });
  router.post('/notifications/robots/:id/delete', async (req, res) => {
    await deps.notifications.removeRobot(currentUser(req), req.params.id);
    res.redirect(303, '/notifications/robots?saved=removed');
  });
  return router;
}
