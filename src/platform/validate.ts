import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { validationFailed, type FieldError } from './errors';

/**
 * Input schemas: zod (v4) schemas, one per endpoint, declared in each component's `*.contract.ts`
 * and used both to parse a request and to write the OpenAPI document (src/web/openapi.ts).
 *
 * The field builders below (text, name, integer, oneOf, dateTime, boolean, optional) give every
 * field a Chinese label, so every message a user sees reads well ("学校名称不能为空"): each
 * builder words its own issues (a per-schema zod error map), `chineseErrors` words the rest.
 * Unknown keys are dropped (mass assignment): only the declared fields ever reach a service.
 */
extendZodWithOpenApi(z);
export { z };

/** Any schema a field builder returns (input `unknown`: bodies come from JSON and from forms). */
export type Field<T> = z.ZodType<T, unknown>;

/** C0 controls except tab/LF/CR, DEL, C1 controls, and lone surrogates. */
// eslint-disable-next-line no-control-regex -- control characters are what this pattern finds
const BAD_IN_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** The same, and tab/LF/CR too (single-line places: path, query, keys, names). */
// eslint-disable-next-line no-control-regex -- control characters are what this pattern finds
export const BAD_IN_LINE = /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** True when `value` has a character no form produces (`multiline`: tab/LF/CR allowed). See src/web/input-gate.ts. */
export function hasInvalidCharacters(value: string, multiline = true): boolean {
  return (multiline ? BAD_IN_TEXT : BAD_IN_LINE).test(value);
}

const blank = (v: unknown) => v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
const blankToUndefined = (v: unknown) => (blank(v) ? undefined : v);
/** Length in characters as a person counts them (code points, not UTF-16 units). */
const chars = (s: string) => [...s].length;

interface TextOptions {
  max?: number;
  min?: number;
  pattern?: RegExp;
  patternMessage?: string;
}

function textSchema(label: string, opts: TextOptions, fold?: (s: string) => string): Field<string> {
  const max = opts.max ?? 200;
  const min = opts.min ?? 0;
  const inner = z
    .string({ error: (iss) => (iss.input === undefined ? `${label}不能为空` : `${label}格式不正确`) })
    .trim()
    .refine((s) => chars(s) >= min, { message: `${label}至少 ${min} 个字符`, abort: true })
    .refine((s) => chars(s) <= max, { message: `${label}不能超过 ${max} 个字符`, abort: true })
    .refine((s) => !opts.pattern || opts.pattern.test(s), { message: opts.patternMessage ?? `${label}格式不正确`, abort: true });
  return z
    .preprocess((v) => blankToUndefined(fold && typeof v === 'string' ? fold(v) : v), inner)
    .openapi({ description: label, maxLength: max, ...(min && { minLength: min }), ...(opts.pattern && { pattern: opts.pattern.source }) });
}

export function text(label: string, opts: TextOptions = {}): Field<string> {
  return textSchema(label, opts);
}

/**
 * Invisible "format" characters that change how a name looks, or hide that two names differ:
 * zero-width space/joiners and marks (U+200B–U+200F), bidi embeddings/overrides (U+202A–U+202E)
 * and isolates (U+2066–U+2069), word joiner and invisible operators (U+2060–U+2064), BOM/ZWNBSP
 * (U+FEFF), soft hyphen, Arabic letter mark, Mongolian vowel separator, Hangul fillers.
 */
const FORMAT_CHARACTERS =
  // eslint-disable-next-line no-misleading-character-class -- each combining/format character is removed on its own
  /[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]/g;

/**
 * Full-width punctuation (，：！（）［］｛｝…) is how Chinese is written: a name keeps it as typed.
 * Everything else NFKC folds is folded (full-width letters and digits, compatibility ideographs,
 * half-width katakana and CJK punctuation, ligatures, circled numbers…).
 */
const CHINESE_PUNCTUATION = '\\uff01-\\uff0f\\uff1a-\\uff20\\uff3b-\\uff40\\uff5b-\\uff5e\\u2025\\u2026';
const NOT_CHINESE_PUNCTUATION = new RegExp(`[^${CHINESE_PUNCTUATION}]+`, 'g');

/**
 * THE normalisation of every name a person types (school, user, county in the import, entry
 * title, director, round, period, rubric label) and of the school import's cells: Unicode NFKC
 * except Chinese full-width punctuation (ＡＢＣ１ → ABC1, but 「（东校区）」 stays), format
 * characters removed, runs of white space (incl. the ideographic space) made one space, trimmed.
 * Names are stored in this form: 「离石区第一小学\u200b」 is 「离石区第一小学」, and a U+202E
 * override cannot reverse a name on screen. Uniqueness compares `nameKey` (full NFKC): the
 * schools index is on `normalize(name, NFKC)` (migrations/0009_names_nfkc.sql).
 */
export function normalizeName(value: string): string {
  return value
    .replace(NOT_CHINESE_PUNCTUATION, (segment) => segment.normalize('NFKC'))
    .replace(FORMAT_CHARACTERS, '')
    .replace(/\s+/gu, ' ')
    .trim();
}

/** The form two names are compared in (= PostgreSQL's `normalize(name, NFKC)` of a stored name). */
export function nameKey(value: string): string {
  return normalizeName(value).normalize('NFKC');
}

/**
 * A single-line name: like text(), on the normalised form (normalizeName). `ascii`: identifiers
 * (usernames) are folded fully (nameKey), so ｊｕｄｇｅ－１ is judge-1.
 */
export function name(label: string, opts: TextOptions & { ascii?: boolean } = {}): Field<string> {
  return textSchema(label, opts, opts.ascii ? nameKey : normalizeName);
}

/** Blank (absent, null, white space) is null; anything else must pass `field`. */
export function optional<T>(field: Field<T>): Field<T | null> {
  return z.preprocess((v) => (blank(v) ? null : v), field.nullable()).default(null) as unknown as Field<T | null>;
}

export function integer(label: string, opts: { min?: number; max?: number } = {}): Field<number> {
  let n = z.number({ error: (iss) => (iss.input === undefined ? `${label}不能为空` : `${label}必须是整数`) }).int({ error: `${label}必须是整数` });
  if (opts.min !== undefined) n = n.min(opts.min, { error: `${label}不能小于 ${opts.min}` });
  if (opts.max !== undefined) n = n.max(opts.max, { error: `${label}不能大于 ${opts.max}` });
  return z
    .preprocess((v) => (blank(v) ? undefined : typeof v === 'number' ? v : typeof v === 'string' ? Number(v.trim()) : NaN), n)
    .openapi({ description: label });
}

export function oneOf<T extends string>(label: string, values: readonly T[]): Field<T> {
  return z
    .enum(values as [T, ...T[]], { error: (iss) => (blank(iss.input) ? `请选择${label}` : `${label}的取值无效`) })
    .openapi({ description: label }) as unknown as Field<T>;
}

export function dateTime(label: string): Field<Date> {
  return z
    .preprocess(
      (v) => (blank(v) ? undefined : typeof v === 'string' ? new Date(v) : v instanceof Date ? v : new Date(NaN)),
      z.date({ error: (iss) => (iss.input === undefined ? `${label}不能为空` : `${label}不是有效的时间`) }),
    )
    .openapi({ description: label, type: 'string', format: 'date-time' });
}

/** A checkbox or a JSON boolean: true/'true'/'on'/'1', false/'false'/'0'/absent/''. */
export function boolean(label: string): Field<boolean> {
  const TRUE = new Set<unknown>([true, 'true', 'on', '1']);
  const FALSE = new Set<unknown>([false, 'false', '0', undefined, null, '']);
  return z
    .preprocess((v) => (TRUE.has(v) ? true : FALSE.has(v) ? false : v), z.boolean({ error: `${label}的取值无效` }))
    .openapi({ description: label, type: 'boolean' });
}

/** `YYYY-MM-DD` naming a real day (2026-02-30 is not one: Date would roll it over to 03-02). */
export function isCalendarDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return y >= 2000 && y <= 2100 && date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/** A calendar day `YYYY-MM-DD` (Beijing days are stored as `date`); every problem says `message`. */
export function calendarDate(label: string, message: string): Field<string> {
  return z.string({ error: message }).refine(isCalendarDate, { message }).openapi({ description: label, format: 'date', example: '2026-06-01' });
}

/**
 * A list of ids as forms and scripts send it: anything but strings is dropped, duplicates once,
 * at most `max`; not a list is the empty list.
 */
export function idList(max: number, emptyMessage?: string): z.ZodType<string[], unknown> {
  const list = z.array(z.string());
  return z
    .preprocess(
      (v) => (Array.isArray(v) ? [...new Set(v.filter((x): x is string => typeof x === 'string'))].slice(0, max) : []),
      emptyMessage ? list.min(1, { error: emptyMessage }) : list,
    )
    .openapi({ type: 'array', items: { type: 'string' }, maxItems: max });
}

/** Chinese words for issues a field builder does not word itself (arrays, objects, custom checks). */
export const chineseErrors: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case 'invalid_type':
      return iss.input === undefined ? '不能为空' : '格式不正确';
    case 'too_small':
      return iss.origin === 'array' ? `至少需要 ${iss.minimum} 项` : `不能小于 ${iss.minimum}`;
    case 'too_big':
      return iss.origin === 'array' ? `最多 ${iss.maximum} 项` : `不能大于 ${iss.maximum}`;
    case 'invalid_value':
      return '取值无效';
    default:
      return '格式不正确';
  }
};

/** `rubric[0].label`, `scores.singing`: where a problem is, as the API reports it. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
}

/** A zod error as the API's `errors: [{ field, message }]`: the first problem of each field. */
export function fieldErrors(error: z.ZodError): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    const field = fieldPath(issue.path);
    if (seen.has(field)) continue;
    seen.add(field);
    out.push({ field, message: issue.message });
  }
  return out;
}

type Shape = Record<string, z.ZodType>;
export type Input<S extends Shape | z.ZodType> = S extends z.ZodType ? z.output<S> : S extends Shape ? z.output<z.ZodObject<S>> : never;

const asObject = (input: unknown) => (input && typeof input === 'object' && !Array.isArray(input) ? input : {});

/**
 * Parses `input` with a schema (or an object shape); throws one validation_failed error listing
 * every problem in Chinese. A non-object body counts as `{}` (every field then says what it needs).
 */
export function parse<S extends Shape | z.ZodType>(schema: S, input: unknown): Input<S> {
  const s = (schema instanceof z.ZodType ? schema : z.object(schema as Shape)) as z.ZodType;
  const result = s.safeParse(s instanceof z.ZodObject ? asObject(input) : input, { error: chineseErrors });
  if (!result.success) throw validationFailed(fieldErrors(result.error));
  return result.data as Input<S>;
}

/** Like parse, for PATCH bodies: only the keys present are validated and returned. */
export function parsePartial<S extends Shape>(shape: S | z.ZodObject<S>, input: unknown): Partial<Input<S>> {
  const source = asObject(input) as Record<string, unknown>;
  const full = shape instanceof z.ZodObject ? (shape.shape as S) : shape;
  const present = Object.fromEntries(Object.entries(full).filter(([k]) => Object.prototype.hasOwnProperty.call(source, k)));
  return parse(present as S, source) as Partial<Input<S>>;
}

export interface PageQuery {
  page: number;
  pageSize: number;
}

/** `?page=&pageSize=`: lenient (a bad value is the default), pageSize at most 200 (docs/api.md). */
export function pageQuerySchema(defaultSize = 50) {
  const int = (fallback: number, min: number, max: number) =>
    z
      .preprocess((v) => {
        const n = Number.parseInt(String(v ?? fallback), 10) || fallback;
        return Math.max(min, Math.min(max, n));
      }, z.number().int())
      .openapi({ type: 'integer', minimum: min, maximum: max, default: fallback });
  return z.object({ page: int(1, 1, 1_000_000), pageSize: int(defaultSize, 1, 200) });
}

/** A query filter: a non-empty string, cut at `max`; anything else (absent, `?a=`) is no filter. */
export function queryText(max: number, description?: string) {
  return z
    .preprocess((v) => (typeof v === 'string' && v !== '' ? v.slice(0, max) : undefined), z.string().optional())
    .openapi({ type: 'string', maxLength: max, ...(description && { description }) });
}

/** A query filter naming one of `values`; anything else is no filter. */
export function queryChoice<T extends string>(values: readonly T[]) {
  return z.preprocess((v) => ((values as readonly unknown[]).includes(v) ? v : undefined), z.enum(values as [T, ...T[]]).optional());
}

/** The page schemas by default size, built once: a zod schema costs more to build than to run. */
const pageSchemas = new Map<number, ReturnType<typeof pageQuerySchema>>();

export function pageQuery(query: Record<string, unknown>, defaultSize = 50): PageQuery {
  let schema = pageSchemas.get(defaultSize);
  if (!schema) pageSchemas.set(defaultSize, (schema = pageQuerySchema(defaultSize)));
  return parse(schema, query);
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}
