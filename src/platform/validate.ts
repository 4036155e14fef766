import { validationFailed, type FieldError } from './errors';

/**
 * A deliberately small input validator: each field names its Chinese label, so every message a
 * user sees reads well ("学校名称不能为空"). Unknown keys are dropped (mass assignment): only the
 * declared fields ever reach a service.
 */
type Rule<T> = (value: unknown, label: string) => { ok: true; value: T } | { ok: false; message: string };

export interface Field<T> {
  label: string;
  rule: Rule<T>;
}

/** C0 controls except tab/LF/CR, DEL, C1 controls, and lone surrogates. */
const BAD_IN_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** The same, and tab/LF/CR too (single-line places: path, query, keys, names). */
export const BAD_IN_LINE = /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** True when `value` has a character no form produces (`multiline`: tab/LF/CR allowed). See src/web/input-gate.ts. */
export function hasInvalidCharacters(value: string, multiline = true): boolean {
  return (multiline ? BAD_IN_TEXT : BAD_IN_LINE).test(value);
}

const blank = (v: unknown) => v === undefined || v === null || (typeof v === 'string' && v.trim() === '');

export function text(label: string, opts: { max?: number; min?: number; pattern?: RegExp; patternMessage?: string } = {}): Field<string> {
  const max = opts.max ?? 200;
  return {
    label,
    rule: (v) => {
      if (blank(v)) return { ok: false, message: `${label}不能为空` };
      if (typeof v !== 'string') return { ok: false, message: `${label}格式不正确` };
      const s = v.trim();
      if (opts.min && [...s].length < opts.min) return { ok: false, message: `${label}至少 ${opts.min} 个字符` };
      if ([...s].length > max) return { ok: false, message: `${label}不能超过 ${max} 个字符` };
      if (opts.pattern && !opts.pattern.test(s)) return { ok: false, message: opts.patternMessage ?? `${label}格式不正确` };
      return { ok: true, value: s };
    },
  };
}

/**
 * Invisible "format" characters that change how a name looks, or hide that two names differ:
 * zero-width space/joiners and marks (U+200B–U+200F), bidi embeddings/overrides (U+202A–U+202E)
 * and isolates (U+2066–U+2069), word joiner and invisible operators (U+2060–U+2064), BOM/ZWNBSP
 * (U+FEFF), soft hyphen, Arabic letter mark, Mongolian vowel separator, Hangul fillers.
 */
const FORMAT_CHARACTERS = /[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]/g;

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
export function name(label: string, opts: { max?: number; min?: number; pattern?: RegExp; patternMessage?: string; ascii?: boolean } = {}): Field<string> {
  const inner = text(label, opts);
  const fold = opts.ascii ? nameKey : normalizeName;
  return {
    label,
    rule: (v, l) => (typeof v === 'string' ? inner.rule(fold(v), l) : inner.rule(v, l)),
  };
}

export function optional<T>(field: Field<T>): Field<T | null> {
  return { label: field.label, rule: (v, l) => (blank(v) ? { ok: true, value: null } : field.rule(v, l)) };
}

export function integer(label: string, opts: { min?: number; max?: number } = {}): Field<number> {
  return {
    label,
    rule: (v) => {
      if (blank(v)) return { ok: false, message: `${label}不能为空` };
      const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v.trim()) : NaN;
      if (!Number.isInteger(n)) return { ok: false, message: `${label}必须是整数` };
      if (opts.min !== undefined && n < opts.min) return { ok: false, message: `${label}不能小于 ${opts.min}` };
      if (opts.max !== undefined && n > opts.max) return { ok: false, message: `${label}不能大于 ${opts.max}` };
      return { ok: true, value: n };
    },
  };
}

export function oneOf<T extends string>(label: string, values: readonly T[]): Field<T> {
  return {
    label,
    rule: (v) =>
      typeof v === 'string' && (values as readonly string[]).includes(v)
        ? { ok: true, value: v as T }
        : { ok: false, message: blank(v) ? `请选择${label}` : `${label}的取值无效` },
  };
}

export function dateTime(label: string): Field<Date> {
  return {
    label,
    rule: (v) => {
      if (blank(v)) return { ok: false, message: `${label}不能为空` };
      const d = typeof v === 'string' ? new Date(v) : v instanceof Date ? v : new Date(NaN);
      return Number.isNaN(d.getTime()) ? { ok: false, message: `${label}不是有效的时间` } : { ok: true, value: d };
    },
  };
}

export function boolean(label: string): Field<boolean> {
  return {
    label,
    rule: (v) => {
      if (v === true || v === 'true' || v === 'on' || v === '1') return { ok: true, value: true };
      if (v === false || v === 'false' || v === '0' || v === undefined || v === null || v === '') return { ok: true, value: false };
      return { ok: false, message: `${label}的取值无效` };
    },
  };
}

type Shape = Record<string, Field<unknown>>;
type Output<S extends Shape> = { [K in keyof S]: S[K] extends Field<infer T> ? T : never };

/** Validates every declared field; throws one validation_failed error listing all problems. */
export function parse<S extends Shape>(shape: S, input: unknown): Output<S> {
  const source = (input && typeof input === 'object' ? input : {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const errors: FieldError[] = [];
  for (const [key, field] of Object.entries(shape)) {
    const value = Object.prototype.hasOwnProperty.call(source, key) ? source[key] : undefined;
    const result = field.rule(value, field.label);
    if (result.ok) out[key] = result.value;
    else errors.push({ field: key, message: result.message });
  }
  if (errors.length) throw validationFailed(errors);
  return out as Output<S>;
}

/** Like parse, for PATCH bodies: only the keys present are validated and returned. */
export function parsePartial<S extends Shape>(shape: S, input: unknown): Partial<Output<S>> {
  const source = (input && typeof input === 'object' ? input : {}) as Record<string, unknown>;
  const present = Object.fromEntries(Object.entries(shape).filter(([k]) => Object.prototype.hasOwnProperty.call(source, k)));
  return parse(present as S, source) as Partial<Output<S>>;
}

export interface PageQuery {
  page: number;
  pageSize: number;
}

/** `?page=&pageSize=` with pageSize at most 200 (API.md). */
export function pageQuery(query: Record<string, unknown>, defaultSize = 50): PageQuery {
  const page = Math.max(1, Math.min(1_000_000, Number.parseInt(String(query.page ?? '1'), 10) || 1));
  const pageSize = Math.max(1, Math.min(200, Number.parseInt(String(query.pageSize ?? defaultSize), 10) || defaultSize));
  return { page, pageSize };
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}
