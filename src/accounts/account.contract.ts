import type { ApiOperation } from '../web/openapi';
import { boolean, name, oneOf, optional, pageQuerySchema, queryChoice, queryText, text, z } from '../platform/validate';
import { ROLES } from './account.types';
import { PASSWORD_MIN_LENGTH } from './password';

/** The accounts API's inputs (parsed by user.service.ts and account.routes.ts) and operations under /api/v1. */
const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._-]{1,47}$/;
const password = text('密码', { min: PASSWORD_MIN_LENGTH, max: 200 });

export const userCreateInput = z
  .object({
    username: name('用户名', { max: 48, pattern: USERNAME, patternMessage: '用户名只能包含字母、数字、点、下划线和短横线，2–48 个字符', ascii: true }),
    password,
    displayName: name('姓名或名称', { max: 60 }),
    role: oneOf('角色', ROLES),
    countyId: optional(text('所属县区', { max: 64 })),
    schoolId: optional(text('所属学校', { max: 64 })),
  })
  .openapi('UserInput');

/** PATCH /users/{id}: rename, disable/enable, or reset the password (only the keys sent). */
export const userUpdateInput = z.object({
  displayName: name('姓名或名称', { max: 60 }),
  password,
  disabled: boolean('停用'),
});

/** POST /me/password: change one's own password. */
export const passwordChangeInput = z
  .object({ currentPassword: text('当前密码', { max: 200 }), newPassword: text('新密码', { min: PASSWORD_MIN_LENGTH, max: 200 }) })
  .openapi('PasswordChangeInput');

/** Shown beside every field where a password is chosen. */
export const PASSWORD_RULE = `至少 ${PASSWORD_MIN_LENGTH} 位，建议字母、数字混合，不要用生日或电话号码。`;

export const userQuery = z.object({ role: queryChoice(ROLES), countyId: queryText(64), q: queryText(100, '用户名或姓名包含') });

const tag = 'accounts';
export const accountOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/users',
    summary: "Accounts (admin: all; county: its schools' accounts), ?role=&countyId=&q=&page=",
    tag,
    query: userQuery.extend(pageQuerySchema().shape),
  },
  { method: 'post', path: '/users', summary: 'Create an account → 201 { id }', tag, body: userCreateInput, status: 201 },
  { method: 'get', path: '/users/{id}', summary: 'One account', tag },
  {
    method: 'patch',
    path: '/users/{id}',
    summary: 'Rename, disable/enable ({ disabled }), or reset the password ({ password })',
    tag,
    body: userUpdateInput.partial().openapi('UserPatch'),
  },
  {
    method: 'post',
    path: '/me/password',
    summary: 'Change your own password { currentPassword, newPassword } → 204; ends every session and API token of the account (sign in again)',
    tag,
    body: passwordChangeInput,
    status: 204,
  },
  { method: 'post', path: '/users/{id}/unlock', summary: "Admin: clear the account's failed logins (all addresses) → { cleared }; audited", tag },
];
