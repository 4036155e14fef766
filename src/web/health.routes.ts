import { Router } from 'express';
import type { ObjectStore } from '../platform/storage/object-store';

/** /healthz: the process is up. /readyz: the database and the object store both answer. */
export function healthRoutes(deps: { database: { ping(): Promise<void> }; store: ObjectStore }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const check = async (fn: () => Promise<void>) => {
      try {
        await withTimeout(fn(), 3000);
        return 'ok';
      } catch {
        return 'unavailable';
      }
    };
    const [database, store] = await Promise.all([check(() => deps.database.ping()), check(() => deps.store.ping())]);
    const ready = database === 'ok' && store === 'ok';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', database, store });
  });
  return router;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
