import type { EntryStatus } from '../entries/entry.schema';

/** The county review's words: what 报送 and 撤回报送 do, said before and after. */

const dayFormat = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai',
  month: 'long',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
});

/** What 报送市教育局 does, with the quota it spends (「报送后占用名额 3/10，截止前可撤回」). */
export function forwardConfirmation(use: { used: number; quota: number; forwardBy: Date }) {
  return {
    title: '确认报送市教育局',
    message: `报送后占用名额 ${use.used + 1}/${use.quota}，${dayFormat.format(use.forwardBy)}县区报送截止前可撤回（撤回后名额释放）；截止后不能撤回。`,
    confirmLabel: '确认报送',
  };
}

export const FORWARD_CLOSED_RECALL = '本期县区报送已截止，不能再撤回。如需退回，请联系市教育局。';

export function NOT_RECALLABLE(status: EntryStatus): string {
  if (status === 'draft' || status === 'submitted' || status === 'returned') return '作品还没有报送市教育局，无需撤回。';
  return '作品已进入市级评审，县区不能再撤回。如需退回，请联系市教育局。';
}
