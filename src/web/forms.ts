import type { Response } from 'express';
import { AppError } from '../platform/errors';

/**
 * Runs a form action; on a validation error, renders the form again (400) with the messages and
 * the values the user typed, instead of an error page.
 */
export async function handleForm(res: Response, form: { view: string; data: Record<string, unknown> }, action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    if (err instanceof AppError && err.code === 'validation_failed') {
      res.status(400).render(form.view, { ...form.data, errors: err.errors ?? [], errorSummary: err.detail });
      return;
    }
    throw err;
  }
}
