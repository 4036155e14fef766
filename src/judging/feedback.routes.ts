import { Router } from 'express';
import { currentUser } from '../web/request-context';
import type { FeedbackService } from './feedback.service';

/** Feedback to schools: `GET /api/v1/feedback`, `GET /api/v1/entries/:id/feedback`, and the page /feedback. */
export function feedbackApi(deps: { feedback: FeedbackService }): Router {
  const router = Router();
  router.get('/feedback', async (req, res) => {
    res.json(await deps.feedback.list(currentUser(req)));
  });
  router.get('/entries/:id/feedback', async (req, res) => {
    res.json(await deps.feedback.forEntry(currentUser(req), req.params.id));
  });
  return router;
}

export function feedbackPages(deps: { feedback: FeedbackService }): Router {
  const router = Router();
  router.get('/feedback', async (req, res) => {
    res.render('judging/feedback', { title: '评审反馈', items: await deps.feedback.list(currentUser(req)) });
  });
  return router;
}
