import { Router, type Request, type Response } from 'express';
import type { SchoolService } from '../org/school.service';
import { pageQuery, parse } from '../platform/validate';
import { PASSWORD_RULE, userQuery } from './account.contract';
import { handleForm } from '../web/forms';
import { pageLinks } from '../web/view-helpers';
import { currentUser, queryString } from '../web/request-context';
import { ROLE_LABELS, ROLES, type CurrentUser } from './account.types';
import type { AuthService } from './auth.service';
import { canMoveSchools } from './policy';
import type { UserService } from './user.service';

export interface AccountDeps {
  users: UserService;
  schools: SchoolService;
  auth: AuthService;
}

/** The login-protection state shown to those who may clear it (null for others). */
const loginState = (deps: AccountDeps, actor: CurrentUser, username: string) => deps.auth.loginStatus(actor, username.toLowerCase());

export function accountPages(deps: AccountDeps): Router {
  const router = Router();

  router.get('/accounts', async (req, res) => {
    const user = currentUser(req);
    const filter = parse(userQuery, req.query);
    const result = await deps.users.list(user, filter, pageQuery(req.query as Record<string, unknown>));
    res.render('accounts/list', {
      title: '账号',
      users: result.items,
      filter,
      roles: ROLES.map((code) => ({ code, label: ROLE_LABELS[code] })),
      pagination: pageLinks('/accounts', req.query as Record<string, unknown>, result.page, result.pageSize, result.total),
    });
  });

  async function formData(user: CurrentUser, extra: Record<string, unknown>) {
    const schools = await deps.schools.list(user, {}, { page: 1, pageSize: 200 });
    return {
      title: '新建账号',
      roles: (await deps.users.creatableRoles(user)).map((code) => ({ code, label: ROLE_LABELS[code] })),
      counties: canMoveSchools(user) ? await deps.schools.listCounties(user) : [],
      schools: schools.items,
      moreSchools: schools.total > schools.items.length,
      isAdmin: canMoveSchools(user),
      passwordRule: PASSWORD_RULE,
      ...extra,
    };
  }

  router.get('/accounts/new', async (req, res) => {
    const user = currentUser(req);
    res.render(
      'accounts/new',
      await formData(user, { values: { role: queryString(req, 'role', 16) ?? 'school', schoolId: queryString(req, 'schoolId', 64) ?? '' } }),
    );
  });

  router.post('/accounts', async (req, res) => {
    const user = currentUser(req);
    const values = req.body as Record<string, unknown>;
    await handleForm(res, { view: 'accounts/new', data: await formData(user, { values: { ...values, password: '' } }) }, async () => {
      const created = await deps.users.create(user, values);
      res.redirect(303, `/accounts/${created.id}?msg=user_created`);
    });
  });

  router.get('/accounts/:id', async (req, res) => {
    const user = currentUser(req);
    const account = await deps.users.get(user, req.params.id);
    res.render('accounts/show', {
      title: `账号：${account.username}`,
      account,
      passwordRule: PASSWORD_RULE,
      login: await loginState(deps, user, account.username),
    });
  });

  router.post('/accounts/:id/unlock', async (req, res) => {
    const user = currentUser(req);
    const account = await deps.users.get(user, req.params.id);
    await deps.auth.unlock(user, account.id);
    res.redirect(303, `/accounts/${account.id}?msg=login_unlocked`);
  });

  async function update(req: Request, res: Response, patch: Record<string, unknown>, msg: string) {
    const user = currentUser(req);
    const account = await deps.users.get(user, req.params.id as string);
    await handleForm(
      res,
      {
        view: 'accounts/show',
        data: { title: `账号：${account.username}`, account, passwordRule: PASSWORD_RULE, login: await loginState(deps, user, account.username) },
      },
      async () => {
        await deps.users.update(user, account.id, patch);
        res.redirect(303, `/accounts/${account.id}?msg=${msg}`);
      },
    );
  }

  router.post('/accounts/:id/disable', (req, res) => update(req, res, { disabled: true }, 'user_disabled'));
  router.post('/accounts/:id/enable', (req, res) => update(req, res, { disabled: false }, 'user_enabled'));
  router.post('/accounts/:id/password', (req, res) => update(req, res, { password: (req.body as Record<string, unknown>).password }, 'password_reset'));
  router.post('/accounts/:id', (req, res) => update(req, res, { displayName: (req.body as Record<string, unknown>).displayName }, 'user_updated'));

  return router;
}

export function accountApi(deps: AccountDeps): Router {
  const router = Router();
  router.get('/users', async (req, res) => {
    res.json(await deps.users.list(currentUser(req), parse(userQuery, req.query), pageQuery(req.query as Record<string, unknown>)));
  });
  router.post('/users', async (req, res) => {
    const created = await deps.users.create(currentUser(req), req.body);
    res.status(201).json({ id: created.id, user: created });
  });
  router.get('/users/:id', async (req, res) => {
    const user = currentUser(req);
    const account = await deps.users.get(user, req.params.id);
    const login = await loginState(deps, user, account.username);
    res.json(login ? { ...account, login } : account);
  });
  router.post('/users/:id/unlock', async (req, res) => {
    const user = currentUser(req);
    const account = await deps.users.get(user, req.params.id);
    res.json(await deps.auth.unlock(user, account.id));
  });
  router.patch('/users/:id', async (req, res) => {
    res.json(await deps.users.update(currentUser(req), req.params.id, req.body));
  });
  return router;
}
