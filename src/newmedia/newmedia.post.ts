/**
 * What a pack says (pure): the opening title card, the closing credits, the covers' title and the
 * post draft (标题, 摘要 ≤ 120 字, 正文 with the credits and the campaign's wording). Made once when
 * the pack is started and stored with it, so the files and the post always say the same thing.
 */
import type { PackCards } from '../platform/media/pack';
import { CAMPAIGN_CLOSING, CAMPAIGN_WORDING, CREDIT_LABELS } from './newmedia.messages';

export const SUMMARY_MAX_CHARS = 120;
/** WeChat's limit for an article title. */
export const TITLE_MAX_CHARS = 64;

export interface PackFacts {
  campaignTitle: string;
  songTitle: string;
  schoolName: string;
  /** null: a 市直 school. */
  countyName: string | null;
  formLabel: string;
  teachers: string | null;
  performerCount: number;
  awardLabel: string | null;
}

export interface PostDraft {
  title: string;
  summary: string;
  body: string;
}

export interface PackTextSet {
  cards: PackCards;
  post: PostDraft;
}

/** Cuts to `max` characters (code points), with an ellipsis when cut. */
export function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

const countyOf = (f: PackFacts) => f.countyName ?? '市直';
/** The school as people say it: with its county in front unless the name already starts with it. */
const schoolWithCounty = (f: PackFacts) => (f.countyName && !f.schoolName.startsWith(f.countyName) ? `${f.countyName}${f.schoolName}` : f.schoolName);
const teachersOf = (f: PackFacts) => f.teachers?.trim() || null;

export function packTexts(f: PackFacts): PackTextSet {
  const teachers = teachersOf(f);
  const cards: PackCards = {
    opening: [
      { text: f.campaignTitle, scale: 0.75 },
      { text: `《${f.songTitle}》`, scale: 1.7, bold: true, accent: true },
      { text: f.schoolName, scale: 1 },
      { text: `${countyOf(f)} · ${f.formLabel}`, scale: 0.85 },
    ],
    closing: [
      ...(teachers ? [{ text: `${CREDIT_LABELS.teachers}：${teachers}`, scale: 1 }] : []),
      { text: `${CREDIT_LABELS.performers}：${f.performerCount} 人`, scale: 1 },
      { text: schoolWithCounty(f), scale: 0.8 },
    ],
    coverTitle: f.songTitle,
  };
  const title = clip(`${f.formLabel}《${f.songTitle}》｜${schoolWithCounty(f)}`, TITLE_MAX_CHARS);
  const summary = clip(
    `${schoolWithCounty(f)}${f.performerCount}名师生以${f.formLabel}形式演唱《${f.songTitle}》` +
      `${f.awardLabel ? `，荣获${f.awardLabel}` : ''}。“学习党的二十大精神、唱响青春主旋律”优秀传唱视频展播。`,
    SUMMARY_MAX_CHARS,
  );
  const credits = [
    `${CREDIT_LABELS.school}：${schoolWithCounty(f)}`,
    `${CREDIT_LABELS.form}：${f.formLabel}`,
    `${CREDIT_LABELS.performers}：${f.performerCount} 人`,
    ...(teachers ? [`${CREDIT_LABELS.teachers}：${teachers}`] : []),
    ...(f.awardLabel ? [`${CREDIT_LABELS.award}：${f.awardLabel}`] : []),
  ];
  const body = [CAMPAIGN_WORDING, `本期展播的是${schoolWithCounty(f)}的${f.formLabel}《${f.songTitle}》。`, credits.join('\n'), CAMPAIGN_CLOSING].join('\n\n');
  return { cards, post: { title, summary, body } };
}

/** The post draft as the text file in the ZIP. */
export function postText(post: PostDraft): string {
  return `标题：${post.title}\n\n摘要：${post.summary}\n\n正文：\n${post.body}\n`;
}
