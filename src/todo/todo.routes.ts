import { Router } from 'express';
import { requestCampaign } from '../campaign/current-campaign';
import { currentUser } from '../web/request-context';
import type { TodoService } from './todo.service';

/** GET /api/v1/todo: the signed-in person's to-do counts in the request's campaign (the same as their home page). */
export function todoApi(deps: { todo: TodoService }): Router {
  const router = Router();
  router.get('/todo', async (req, res) => {
    const items = await deps.todo.items(currentUser(req), requestCampaign(req).id);
    res.json({ items: items.map((i) => ({ ...i, due: i.due ? i.due.toISOString() : null, tone: i.tone ?? 'info' })) });
  });
  return router;
}
