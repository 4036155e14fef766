import type { CurrentUser, Role } from '../accounts/account.types';

/**
 * The menu each role sees. Components add their own items here as they land.
 *
 * `group` files an item under a heading of the menus that are grouped (GROUPED_ROLES: the city
 * and the counties, whose flat menus wrapped into two to four rows at 1280 px). On a grouped menu
 * the groups stand where their first item stands, so ITEMS is kept in menu order; a group that
 * holds one item of the role shows as that plain link. The other roles' menus stay flat.
 */
interface NavItem {
  href: string;
  label: string;
  roles: readonly Role[];
  group?: NavGroupLabel;
}

type NavGroupLabel = '报送' | '评审' | '展播' | '组织' | '设置';

const ALL: readonly Role[] = ['school', 'county', 'judge', 'admin', 'tv', 'supervisor', 'newmedia'];

const ITEMS: NavItem[] = [
  { href: '/', label: '首页', roles: ALL },
  { href: '/entries', label: '作品', roles: ['school', 'county', 'admin'], group: '报送' },
  { href: '/review', label: '审核与报送', roles: ['county', 'admin'], group: '报送' },
  { href: '/stats', label: '统计', roles: ['county', 'admin'], group: '报送' },
  { href: '/learning', label: '人人会唱', roles: ['school'], group: '报送' },
  { href: '/learning/coverage', label: '人人会唱', roles: ['county', 'admin'], group: '报送' },
  { href: '/supervision', label: '监督', roles: ['supervisor'] },
  { href: '/rounds', label: '评审轮次', roles: ['admin'], group: '评审' },
  { href: '/objections', label: '公示异议', roles: ['admin', 'supervisor'], group: '评审' },
  { href: '/reports', label: '成绩单', roles: ['county', 'admin', 'supervisor'], group: '评审' },
  { href: '/certificates', label: '获奖证书', roles: ['school', 'county'], group: '评审' },
  { href: '/broadcast', label: '电视台展播', roles: ['tv', 'admin'], group: '展播' },
  { href: '/newmedia', label: '新媒体展播', roles: ['newmedia', 'admin'], group: '展播' },
  { href: '/org/counties', label: '县区', roles: ['admin'], group: '组织' },
  { href: '/org/schools', label: '学校', roles: ['county', 'admin'], group: '组织' },
  { href: '/accounts', label: '账号', roles: ['county', 'admin'], group: '组织' },
  { href: '/campaigns', label: '活动管理', roles: ['admin'], group: '设置' },
  { href: '/campaign', label: '活动与报送期', roles: ['school', 'county', 'judge', 'admin', 'tv'], group: '设置' },
  { href: '/consent/settings', label: '授权书要求', roles: ['admin'], group: '设置' },
  { href: '/audit', label: '操作日志', roles: ['admin'], group: '设置' },
  { href: '/judging', label: '我的评审', roles: ['judge'] },
  { href: '/feedback', label: '评审反馈', roles: ['school'] },
  { href: '/my-data', label: '本校数据', roles: ['school'] },
  // Never in a group: its unread badge stays in sight.
  { href: '/notifications', label: '消息', roles: ALL },
];

/** Roles whose menus are grouped; the others have at most eight items and fit one row flat. */
export const GROUPED_ROLES: readonly Role[] = ['admin', 'county'];

export interface NavLink {
  kind: 'link';
  href: string;
  label: string;
  /** The current page (the layout marks it aria-current="page"). */
  active: boolean;
  /** Unread messages on 消息 ("99+" past 99), else null. */
  badge: string | null;
}

export interface NavGroup {
  kind: 'group';
  label: NavGroupLabel;
  /** Holds the current page. */
  active: boolean;
  links: NavLink[];
}

export type NavEntry = NavLink | NavGroup;

/** `unread`: the person's unread messages, shown as a badge on 消息. */
export function navFor(user: CurrentUser | null, currentPath: string, unread = 0): NavEntry[] {
  if (!user) return [];
  const items = ITEMS.filter((i) => i.roles.includes(user.role));
  const link = (i: NavItem): NavLink => ({
    kind: 'link',
    href: i.href,
    label: i.label,
    active: i.href === '/' ? currentPath === '/' : currentPath === i.href || currentPath.startsWith(`${i.href}/`),
    badge: i.href === '/notifications' && unread > 0 ? (unread > 99 ? '99+' : String(unread)) : null,
  });
  if (!GROUPED_ROLES.includes(user.role)) return items.map(link);
  const entries: NavEntry[] = [];
  const groups = new Map<NavGroupLabel, NavGroup>();
  for (const item of items) {
    const l = link(item);
    if (!item.group) {
      entries.push(l);
      continue;
    }
    let group = groups.get(item.group);
    if (!group) {
      group = { kind: 'group', label: item.group, active: false, links: [] };
      groups.set(item.group, group);
      entries.push(group);
    }
    group.links.push(l);
    group.active ||= l.active;
  }
  // A group of one is just a detour: show its item as a plain link where the group would stand.
  return entries.map((e) => (e.kind === 'group' && e.links.length === 1 ? e.links[0] : e));
}

/** Short confirmations shown after a redirect (`?msg=`). */
export const FLASH: Record<string, string> = {
  school_created: '学校已创建。',
  school_updated: '学校信息已保存。',
  schools_imported: '学校已导入。',
  user_created: '账号已创建。',
  user_updated: '账号已更新。',
  user_disabled: '账号已停用，该账号已被登出。',
  user_enabled: '账号已启用。',
  password_reset: '密码已重置，该账号需要用新密码重新登录。',
  period_updated: '报送期已保存。',
  campaign_created: '新活动已创建（筹备中）。检查复制过来的歌曲和报送期，然后开放报送。',
  campaign_status: '活动状态已更新。',
  campaign_closed: '活动已关闭：从现在起只能查看，不能再修改。',
  retention_saved: '保留期限已保存。',
  retention_planned: '预演完成：下面是将被删除的文件清单，确认后才会执行。',
  retention_confirmed: '已确认清理：到期后将按预演清单删除文件。',
  logged_out: '您已退出登录。',
  entry_created: '作品已创建。下一步：上传作品视频。',
  entry_updated: '作品信息已保存。',
  video_uploaded: '视频已上传，正在处理，请稍候。',
  video_retried: '视频已重新排队处理，无需重新上传。',
  entry_submitted: '作品已提交，等待县区教育局审核。',
  entry_forwarded: '作品已提交，直接报送市教育局。',
  entry_returned: '作品已退回学校，学校会看到退回原因。',
  entry_forwarded_city: '作品已报送市教育局。',
  entry_recalled: '已撤回报送，名额已释放；作品回到「待审核」，可以退回学校或重新报送。',
  recall_reason_required: '撤回报送时请填写原因。',
  password_changed: '密码已修改。',
  rank_updated: '报送排序已调整。',
  quota_updated: '名额已保存。',
  reason_required: '退回时请填写退回原因。',
  aired_saved: '播出日期已保存。',
  broadcast_selected: '已选送电视台，正在制作广播母版。',
  broadcast_selected_many: '所勾选的作品已选送电视台，正在逐件制作广播母版。',
  broadcast_none_ticked: '请先勾选要选送的作品。',
  media_pack_started: '新媒体包已开始制作，完成后可在本页下载。',
  entry_withdrawn: '作品已撤回，可以修改后重新提交。',
  consent_recorded: '监护人授权已登记。',
  consent_withdrawn: '授权已撤回，相关渠道将停止使用该作品。',
  consent_settings_saved: '授权书要求已保存。',
  personal_data_erased: '该校的个人信息已删除。',
  round_created: '评审轮次已创建。',
  round_updated: '轮次设置已保存。',
  round_entries_added: '作品已添加到本轮。',
  round_entries_none: '没有可添加的新作品。',
  login_unlocked: '已解除该账号的登录限制。',
  round_entries_awarded_skipped: '作品已添加；已获奖或已选送电视台的作品没有加入本轮（如需加入，请勾选「也加入已获奖或已选送电视台的作品」后再添加）。',
  round_created_awarded_skipped: '轮次已创建；上一轮入围作品中已获奖或已选送电视台的没有加入（如需加入，请在「添加作品」中勾选后再添加）。',
  round_judges_saved: '评委名单已保存。',
  round_assigned: '已自动分配，各评委的作品数最多相差 1 件。',
  assignment_added: '已增加一条分配。',
  assignment_removed: '分配已删除。',
  round_opened: '评审已开始，评委现在可以评分。',
  round_closed: '评审已结束，评分已锁定。',
  score_reopened: '该评分已重新开放，评委可以修改后再次提交。',
  shortlist_saved: '入围名单已确定。',
  awards_confirmed: '奖项已评定。',
  results_published: '获奖名单已公示。',
  results_unpublished: '公示已撤回。',
  objection_step_saved: '异议处理进度已保存。',
  score_saved: '草稿已保存。',
  score_submitted: '评分已提交。截止前仍可修改。',
  score_next: '上一件作品的评分已提交。这是下一件。',
  scores_all_done: '评分已提交。您的作品已全部评完，谢谢！',
  learning_reported: '学唱进度已上报。之后可以随时更新，以最近一次上报为准。',
  learning_deadline_saved: '上报截止日期已保存。',
  learning_deadline_invalid: '上报截止日期格式不正确，请选择一个日期。',
  certificates_issued: '证书已制作，正在生成 PDF，稍后刷新即可下载。',
  seal_saved: '公章图片已保存，之后生成的证书会盖上此章（已制作的证书请点「制作 / 更新证书」重新生成）。',
  seal_invalid: '公章图片须为不超过 2 MB 的 PNG 图片。',
  conflict_declared: '已声明回避，这件作品将由其他评委评分。',
};

/** Only same-site relative paths are followed after login (no open redirects). */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[^\s]*$/.test(next) && !next.startsWith('/login') ? next.slice(0, 500) : '/';
}
