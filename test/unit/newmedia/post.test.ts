import { SUMMARY_MAX_CHARS, TITLE_MAX_CHARS, packTexts, postText, type PackFacts } from '../../../src/newmedia/newmedia.post';

const facts: PackFacts = {
  campaignTitle: '学习党的二十大精神 唱响青春主旋律',
  songTitle: '我们的祖国甜花香',
  schoolName: '孝义市第一实验小学',
  countyName: '孝义市',
  formLabel: '合唱',
  teachers: '张敏、刘洋',
  performerCount: 48,
  awardLabel: '二等奖',
};

test('when a post is drafted, then the title, summary and body carry the song, school, credits and the campaign wording', () => {
  const { post, cards } = packTexts(facts);
  expect(post.title).toBe('合唱《我们的祖国甜花香》｜孝义市第一实验小学');
  expect([...post.summary].length).toBeLessThanOrEqual(SUMMARY_MAX_CHARS);
  expect(post.summary).toContain('荣获二等奖');
  expect(post.body).toContain('指导教师：张敏、刘洋');
  expect(post.body).toContain('表演人数：48 人');
  expect(post.body).toContain('唱响青春主旋律');
  expect(cards.opening.map((b) => b.text)).toEqual(['学习党的二十大精神 唱响青春主旋律', '《我们的祖国甜花香》', '孝义市第一实验小学', '孝义市 · 合唱']);
  expect(cards.closing.map((b) => b.text)).toEqual(['指导教师：张敏、刘洋', '表演人数：48 人', '孝义市第一实验小学']);
  expect(postText(post)).toMatch(/^标题：.+\n\n摘要：.+\n\n正文：\n/);
});

test('when names are very long, then the summary stays within 120 characters and the title within 64', () => {
  const long = { ...facts, schoolName: '很长的学校名称'.repeat(12), songTitle: '很长的歌名'.repeat(8), countyName: null, teachers: null, awardLabel: null };
  const { post, cards } = packTexts(long);
  expect([...post.summary].length).toBe(SUMMARY_MAX_CHARS);
  expect(post.summary.endsWith('…')).toBe(true);
  expect([...post.title].length).toBeLessThanOrEqual(TITLE_MAX_CHARS);
  // No teacher given: no empty credit line.
  expect(post.body).not.toContain('指导教师');
  expect(cards.closing.map((b) => b.text)).not.toContainEqual(expect.stringContaining('指导教师'));
  expect(cards.opening[3]!.text).toBe('市直 · 合唱');
});
