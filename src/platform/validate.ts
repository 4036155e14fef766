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
