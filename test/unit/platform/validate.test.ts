import { AppError } from '../../../src/platform/errors';
import { boolean, dateTime, idList, integer, name, oneOf, optional, pageQuery, parse, parsePartial, text, z } from '../../../src/platform/validate';
import { rubric, scoresOf, shortlistInput, tiersInput } from '../../../src/judging/judging.contract';
import { airedInput, selectInput } from '../../../src/broadcast/broadcast.contract';

/** The field errors a parse throws (or [] when it passes). */
function errorsOf(fn: () => unknown): Array<{ field: string; message: string }> {
  try {
    fn();
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('validation_failed');
    return (err as AppError).errors ?? [];
  }
}

describe('input schemas: zod with the Chinese messages of the API', () => {
  const shape = {
    title: name('作品名称', { max: 5 }),
    count: integer('参演人数', { min: 1, max: 10 }),
    role: oneOf('角色', ['school', 'county'] as const),
    at: optional(dateTime('开始时间')),
    blind: boolean('匿名评审'),
    note: optional(text('备注', { max: 3 })),
  };

  test('when every field is missing, then each required one names itself and optional ones are null', () => {
    expect(errorsOf(() => parse(shape, {}))).toEqual([
      { field: 'title', message: '作品名称不能为空' },
      { field: 'count', message: '参演人数不能为空' },
      { field: 'role', message: '请选择角色' },
    ]);
  });

  test('when values are wrong, then one Chinese message per field says what is wrong', () => {
    expect(errorsOf(() => parse(shape, { title: '一二三四五六', count: '1.5', role: 'judge', at: '明天', blind: 'maybe', note: 'abcd' }))).toEqual([
      { field: 'title', message: '作品名称不能超过 5 个字符' },
      { field: 'count', message: '参演人数必须是整数' },
      { field: 'role', message: '角色的取值无效' },
      { field: 'at', message: '开始时间不是有效的时间' },
      { field: 'blind', message: '匿名评审的取值无效' },
      { field: 'note', message: '备注不能超过 3 个字符' },
    ]);
    expect(errorsOf(() => parse(shape, { title: 'a', count: 11, role: 'school' }))).toEqual([{ field: 'count', message: '参演人数不能大于 10' }]);
  });

  test('when a form sends strings, then they are trimmed, normalised, counted in characters and converted', () => {
    const out = parse(shape, {
      title: ' ＡＢ\u200bc ',
      count: ' 7 ',
      role: 'county',
      at: '2026-06-01T08:00:00+08:00',
      blind: 'on',
      note: '  ',
      extra: 'dropped',
    });
    expect(out).toEqual({ title: 'ABc', count: 7, role: 'county', at: new Date('2026-06-01T00:00:00Z'), blind: true, note: null });
    // 🎵 is one character (two UTF-16 units): five of them fit a limit of five.
    expect(parse({ title: name('作品名称', { max: 5 }) }, { title: '🎵🎵🎵🎵🎵' }).title).toBe('🎵🎵🎵🎵🎵');
  });

  test('when a PATCH sends some fields, then only those are validated and returned', () => {
    expect(parsePartial(shape, { note: 'ok' })).toEqual({ note: 'ok' });
    expect(errorsOf(() => parsePartial(shape, { title: null }))).toEqual([{ field: 'title', message: '作品名称不能为空' }]);
  });

  test('when the body is not an object, then it counts as an empty one', () => {
    expect(errorsOf(() => parse({ reason: text('退回原因') }, ['x']))).toEqual([{ field: 'reason', message: '退回原因不能为空' }]);
  });

  test('when a schema without its own words fails, then the fallback map still answers in Chinese', () => {
    expect(errorsOf(() => parse({ list: z.array(z.string()).max(1) }, { list: ['a', 'b'] }))).toEqual([{ field: 'list', message: '最多 1 项' }]);
    expect(errorsOf(() => parse({ n: z.number() }, {}))).toEqual([{ field: 'n', message: '不能为空' }]);
  });

  test('when ids come as a list, then non-strings and duplicates are dropped and an empty list can be refused', () => {
    expect(parse({ ids: idList(3) }, { ids: ['a', 1, 'a', 'b', 'c', 'd'] }).ids).toEqual(['a', 'b', 'c']);
    expect(errorsOf(() => parse({ ids: idList(3, '请至少选择一位评委') }, { ids: 'a' }))).toEqual([{ field: 'ids', message: '请至少选择一位评委' }]);
  });

  test('when the page query is nonsense, then the defaults apply and pageSize stays at most 200', () => {
    expect(pageQuery({ page: 'x', pageSize: '9999' })).toEqual({ page: 1, pageSize: 200 });
    expect(pageQuery({}, 20)).toEqual({ page: 1, pageSize: 20 });
  });
});

describe('the judging and broadcast inputs that used to be parsed by hand', () => {
  const parseRubric = (value: unknown) => parse({ rubric }, { rubric: value }).rubric;

  test('when a rubric is absent, then the default one applies; when it is wrong, then each criterion says why', () => {
    expect(parseRubric(undefined).map((c) => c.max)).toEqual([50, 25, 15, 10]);
    expect(errorsOf(() => parseRubric([]))).toEqual([{ field: 'rubric', message: '评分标准需要 1 到 10 项' }]);
    expect(
      errorsOf(() =>
        parseRubric([
          { key: 'a', label: '', max: 50 },
          { key: 'b', label: '表现', max: 'x' },
        ]),
      ),
    ).toEqual([
      { field: 'rubric[0].label', message: '第 1 项评分标准缺少名称' },
      { field: 'rubric[1].max', message: '第 2 项的满分必须是 1–100 的整数' },
    ]);
    expect(
      errorsOf(() =>
        parseRubric([
          { key: 'a', label: '演唱', max: 60 },
          { key: 'a', label: '表现', max: 40 },
        ]),
      ),
    ).toEqual([{ field: 'rubric[1].key', message: '第 2 项的标识重复' }]);
    expect(
      errorsOf(() =>
        parseRubric([
          { label: '演唱', max: 60 },
          { label: '表现', max: 30 },
        ]),
      ),
    ).toEqual([{ field: 'rubric', message: '各项满分之和必须是 100，现在是 90' }]);
  });

  test('when scores are saved, then each is checked against its criterion; a submission needs all of them', () => {
    const criteria = [
      { key: 'singing', label: '演唱水平', max: 60 },
      { key: 'spirit', label: '精神面貌', max: 40 },
    ];
    expect(parse(scoresOf(criteria, false), { scores: { singing: '55.5', spirit: null } }).scores).toEqual({ singing: 55.5 });
    expect(errorsOf(() => parse(scoresOf(criteria, true), { scores: { singing: 61, spirit: 1.25 } }))).toEqual([
      { field: 'scores.singing', message: '「演唱水平」的分数必须在 0 到 60 之间' },
      { field: 'scores.spirit', message: '「精神面貌」的分数最多保留一位小数' },
    ]);
    expect(errorsOf(() => parse(scoresOf(criteria, true), { scores: { singing: 50 } }))).toEqual([{ field: 'scores.spirit', message: '请给「精神面貌」打分' }]);
  });

  test('when a shortlist names neither entries nor a positive top, then top is refused', () => {
    expect(errorsOf(() => parse(shortlistInput, {}))).toEqual([{ field: 'top', message: '入围数量必须是正整数' }]);
    expect(errorsOf(() => parse(shortlistInput, { top: '0' }))).toEqual([{ field: 'top', message: '入围数量必须是正整数' }]);
    expect(parse(shortlistInput, { top: '3', per: 'song' })).toEqual({ top: 3, per: 'song' });
    expect(parse(shortlistInput, { entryIds: ['e1', 7], per: 'nonsense' })).toEqual({ entryIds: ['e1'] });
  });

  test('when award tiers come in any order, then they are sorted 一等奖 first; a bad tier is refused', () => {
    expect(
      parse(tiersInput, {
        tiers: [
          { award: 'third', count: '2' },
          { award: 'first', count: 1 },
        ],
      }).tiers,
    ).toEqual([
      { award: 'first', count: 1 },
      { award: 'third', count: 2 },
    ]);
    expect(errorsOf(() => parse(tiersInput, { tiers: [] }))).toEqual([{ field: 'tiers', message: '请填写各奖项的数量' }]);
    expect(errorsOf(() => parse(tiersInput, { tiers: [{ award: 'gold', count: 1 }] }))[0]?.message).toBe(
      '奖项只能是一等奖、二等奖、三等奖、优秀奖，数量为非负整数',
    );
  });

  test('when a master is ordered or an airing date given, then defaults apply and wrong values say the format', () => {
    expect(parse(selectInput, {})).toEqual({ profile: 'xdcam-hd422', pillarbox: 'black' });
    expect(errorsOf(() => parse(selectInput, { profile: 'prores' }))).toEqual([{ field: 'profile', message: '母版格式只能是 xdcam-hd422 或 h264-1080p25' }]);
    expect(parse(airedInput, { airedOn: '2026-06-01' }).airedOn).toBe('2026-06-01');
    expect(errorsOf(() => parse(airedInput, { airedOn: '2026-02-30' }))).toEqual([{ field: 'airedOn', message: '播出日期格式应为 2026-06-01' }]);
  });
});
