import type { Role } from '../platform/db/schema';

export type { Role };

export const ROLES: readonly Role[] = ['school', 'county', 'judge', 'admin', 'tv', 'supervisor', 'newmedia'];

export const ROLE_LABELS: Record<Role, string> = {
  school: '学校',
  county: '县级教育局',
  judge: '评委',
  admin: '市教育局管理员',
  tv: '电视台',
  supervisor: '监督',
  newmedia: '新媒体编辑',
};

/** The signed-in user, as every service and the policy see it. */
export interface CurrentUser {
  id: string;
  username: string;
  displayName: string;
  role: Role;
  countyId: string | null;
  schoolId: string | null;
  /** The password was set by someone else (created or reset): pages ask for a new one first. */
  mustChangePassword?: boolean;
}

export interface UserView extends CurrentUser {
  countyName: string | null;
  schoolName: string | null;
  disabled: boolean;
  createdAt: Date;
}
