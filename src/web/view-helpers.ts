import type Handlebars from 'handlebars';
import { ROLE_LABELS, type Role } from '../accounts/account.types';

const dateFormat = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
});
const dayFormat = new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' });

/** Value for an <input type="datetime-local"> in Beijing time. */
export function toLocalInput(d: Date): string {
  const shifted = new Date(d.getTime() + 8 * 3600_000);
  return shifted.toISOString().slice(0, 16);
}

/** Reads an <input type="datetime-local"> value as Beijing time. */
export function fromLocalInput(value: unknown): unknown {
  return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value) ? `${value}:00+08:00` : value;
}

export interface PageLink {
  page: number;
  current: boolean;
  href: string;
}

/** Links for a paginated list, keeping the other query parameters. */
/**
 * Numbered page links for a list. `param` names the list's page in the query string (a page with two
 * lists gives each its own) and the links keep every other parameter; `fragment` brings the reader
 * back to the list (`#awaiting`).
 */
export function pageLinks(
  base: string,
  query: Record<string, unknown>,
  page: number,
  pageSize: number,
  total: number,
  { param = 'page', fragment = '' }: { param?: string; fragment?: string } = {},
) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const href = (p: number) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (typeof v === 'string' && v !== '' && k !== param && k !== 'msg') params.set(k, v);
    params.set(param, String(p));
    return `${base}?${params.toString()}${fragment && `#${fragment}`}`;
  };
  const from = Math.max(1, page - 3);
  const to = Math.min(pages, page + 3);
  const links: PageLink[] = [];
  for (let p = from; p <= to; p++) links.push({ page: p, current: p === page, href: href(p) });
  return { pages, total, links, prev: page > 1 ? href(page - 1) : null, next: page < pages ? href(page + 1) : null, show: pages > 1 };
}

export function registerViewHelpers(hbs: typeof Handlebars): void {
  hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hbs.registerHelper('ne', (a: unknown, b: unknown) => a !== b);
  hbs.registerHelper('or', (...args: unknown[]) => args.slice(0, -1).some(Boolean));
  hbs.registerHelper('and', (...args: unknown[]) => args.slice(0, -1).every(Boolean));
  hbs.registerHelper('not', (a: unknown) => !a);
  hbs.registerHelper('roleLabel', (role: Role) => ROLE_LABELS[role] ?? role);
  hbs.registerHelper('dateTime', (d: unknown) => (d ? dateFormat.format(new Date(d as string)) : ''));
  hbs.registerHelper('date', (d: unknown) => (d ? dayFormat.format(new Date(d as string)) : ''));
  hbs.registerHelper('localInput', (d: unknown) => (d ? toLocalInput(new Date(d as string)) : ''));
  hbs.registerHelper(
    'fieldError',
    (errors: Array<{ field: string; message: string }> | undefined, field: string) => errors?.find((e) => e.field === field)?.message ?? '',
  );
  hbs.registerHelper('selected', (a: unknown, b: unknown) => (a === b ? 'selected' : ''));
}
