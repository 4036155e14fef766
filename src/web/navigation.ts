import type { CurrentUser, Role } from '../accounts/account.types';

/** The menu each role sees. Components add their own items here as they land. */
interface NavItem {
  href: string;
  label: string;
  roles: readonly Role[];
}

const ITEMS: NavItem[] = [
  { href: '/', label: '首页', roles: ['school', 'county', 'judge', 'admin', 'tv', 'newmedia'] },
  { href: '/entries', label: '作品', roles: ['school', 'county', 'admin'] },
  { href: '/review', label: '审核与报送', roles: ['county', 'admin'] },
  { href: '/stats', label: '统计', roles: ['county', 'admin'] },
  { href: '/broadcast', label: '电视台展播', roles: ['tv', 'admin'] },
  { href: '/newmedia', label: '新媒体展播', roles: ['newmedia', 'admin'] },
  { href: '/campaign', label: '活动与报送期', roles: ['school', 'county', 'judge', 'admin', 'tv'] },
  { href: '/org/counties', label: '县区', roles: ['admin'] },
  { href: '/org/schools', label: '学校', roles: ['county', 'admin'] },
  { href: '/accounts', label: '账号', roles: ['county', 'admin'] },
  { href: '/rounds', label: '评审轮次', roles: ['admin'] },
  { href: '/judging', label: '我的评审', roles: ['judge'] },
  { href: '/audit', label: '操作日志', roles: ['admin'] },
];

export function navFor(user: CurrentUser | null, currentPath: string) {
  if (!user) return [];
  return ITEMS.filter((i) => i.roles.includes(user.role)).map((i) => ({
    ...i,
    active: i.href === '/' ? currentPath === '/' : currentPath.startsWith(i.href),
  }));
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
  logged_out: '您已退出登录。',
  entry_created: '作品已创建。下一步：上传作品视频。',
  entry_updated: '作品信息已保存。',
  video_uploaded: '视频已上传，正在处理，请稍候。',
  video_retried: '视频已重新排队处理，无需重新上传。',
  entry_submitted: '作品已提交，等待县区教育局审核。',
  entry_forwarded: '作品已提交，直接报送市教育局。',
  entry_returned: '作品已退回学校，学校会看到退回原因。',
  entry_forwarded_city: '作品已报送市教育局。',
  rank_updated: '报送排序已调整。',
  quota_updated: '名额已保存。',
  reason_required: '退回时请填写退回原因。',
  aired_saved: '播出日期已保存。',
  broadcast_selected: '已选送电视台，正在制作广播母版。',
  media_pack_started: '新媒体包已开始制作，完成后可在本页下载。',
  entry_withdrawn: '作品已撤回，可以修改后重新提交。',
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
  score_saved: '草稿已保存。',
  score_submitted: '评分已提交。截止前仍可修改。',
  score_next: '上一件作品的评分已提交。这是下一件。',
  scores_all_done: '评分已提交。您的作品已全部评完，谢谢！',
  conflict_declared: '已声明回避，这件作品将由其他评委评分。',
};

/** Only same-site relative paths are followed after login (no open redirects). */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[^\s]*$/.test(next) && !next.startsWith('/login') ? next.slice(0, 500) : '/';
}
