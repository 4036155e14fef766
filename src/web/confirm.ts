import type { Request, Response } from 'express';

/**
 * Confirmation before a one-way action, for the pages only (the API acts at once).
 *
 * A form for such an action carries `data-confirm="…"` (what the action does); with JavaScript,
 * public/confirm.js asks in a dialog and then posts with `_confirmed=1`. Without JavaScript the
 * form posts without it: the route calls `confirmStep` first, which renders a confirm page saying
 * the same thing, with a form that posts the same fields again plus `_confirmed=1`.
 */
export interface Confirmation {
  /** The page's heading, e.g. 「确认报送市教育局」. */
  title: string;
  /** What the action does, in one or two sentences. */
  message: string;
  /** The confirm button's text, e.g. 「确认报送」. */
  confirmLabel: string;
  /** Where 取消 goes back to. */
  cancelHref: string;
  /** `danger` for an action that locks or takes away (结束评审). */
  danger?: boolean;
}

export const CONFIRMED_FIELD = '_confirmed';

/** True when the person has confirmed; otherwise renders the confirm page and returns false. */
export function confirmStep(req: Request, res: Response, c: Confirmation): boolean {
  const body = (req.body ?? {}) as Record<string, unknown>;
  if (body[CONFIRMED_FIELD] === '1') return true;
  const fields = Object.entries(body)
    .filter(([k, v]) => k !== '_csrf' && k !== CONFIRMED_FIELD && (typeof v === 'string' || typeof v === 'number'))
    .map(([name, value]) => ({ name, value: String(value) }));
  res.render('confirm', { title: c.title, confirm: c, action: req.originalUrl.split('?')[0], fields });
  return false;
}
