import type { ServerResponse } from 'node:http';
import type { Server } from 'node:http';

/**
 * Graceful stop of the web server (SIGTERM from a deploy, systemd or a container runtime):
 * - stop accepting: the listening socket closes, idle keep-alive connections are closed, and every
 *   answer given from now on says `Connection: close`;
 * - requests in flight get `graceMs` to finish (score saves, downloads, uploads);
 * - then whatever is still open is cut: a cut tus PATCH keeps the bytes that arrived (both tus
 *   stores write as the body streams), a cut multipart upload's spool file is removed by its
 *   request's close handler, and the caller removes what is left of this process's temp files.
 * Resolves when no request is left (or 2 s after the cut), so the database closes only after the
 * last request that could use it: no "driver has already been destroyed" answers.
 */
export function drainOnShutdown(server: Server): (graceMs: number) => Promise<{ cut: number }> {
  const inFlight = new Set<ServerResponse>();
  let draining = false;
  let onIdle: (() => void) | undefined;
  server.on('request', (req, res) => {
    inFlight.add(res);
    if (draining) res.setHeader('Connection', 'close');
    res.on('close', () => {
      inFlight.delete(res);
      if (inFlight.size === 0) onIdle?.();
    });
  });

  const idle = (ms: number) =>
    new Promise<boolean>((resolve) => {
      if (inFlight.size === 0) return resolve(true);
      const timer = setTimeout(() => resolve(inFlight.size === 0), ms);
      onIdle = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });

  return async (graceMs) => {
    draining = true;
    server.close();
    server.closeIdleConnections();
    for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
    // Keep-alive connections that become idle after answering are closed as they do.
    const idleCloser = setInterval(() => server.closeIdleConnections(), 100);
    try {
      if (await idle(graceMs)) return { cut: 0 };
      const cut = inFlight.size;
      server.closeAllConnections();
      await idle(2_000);
      return { cut };
    } finally {
      clearInterval(idleCloser);
    }
  };
}
