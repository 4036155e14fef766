import { METHODS } from 'node:http';
import type { Express } from 'express';
import { openApiDocument } from '../../src/web/openapi';
import { createTestApp, type TestApp } from '../support/app';

/**
 * The OpenAPI document is written from the components' contracts (`src/<component>/*.contract.ts`);
 * this walks the express app's router stack and proves the two agree both ways (issue 14).
 */

interface Layer {
  name: string;
  handle: { stack?: Layer[] };
  route?: { path: string; stack: Array<{ method?: string }> };
  match(path: string): false | { path: string };
}

/** `/rounds/:id` and `/uploads/{*id}` in OpenAPI form: `/rounds/{id}`, `/uploads/{id}`. */
const openApiPath = (p: string) => p.replace(/:(\w+)/g, '{$1}').replace(/\{\*(\w+)\}/g, '{$1}');

/** Every route the app answers under /api/v1: `method path` (method `*` for app.all). */
function registeredRoutes(app: Express): Set<string> {
  const found = new Set<string>();
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const full = prefix + layer.route.path;
        if (!full.startsWith('/api/v1/')) continue;
        // app.all() registers one layer per HTTP method: the tus endpoints answer every method.
        const methods = new Set(layer.route.stack.map((l) => l.method));
        for (const m of methods.size >= METHODS.length - 1 ? ['*'] : methods) found.add(`${m} ${openApiPath(full.slice('/api/v1'.length))}`);
      } else if (layer.handle.stack) {
        // A mounted router: its mount path is what it strips from a matching request path.
        const probe = layer.match('/api/v1/__probe__');
        walk(layer.handle.stack, prefix + (probe ? probe.path : ''));
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return found;
}

describe('OpenAPI coverage', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const documented = () => new Set(Object.entries(openApiDocument().paths).flatMap(([p, ops]) => Object.keys(ops as object).map((m) => `${m} ${p}`)));

  test('when the router stack is walked, then every route under /api/v1 is in the OpenAPI document', () => {
    const doc = documented();
    const docPaths = new Set([...doc].map((k) => k.split(' ')[1]));
    const registered = [...registeredRoutes(t.app)];
    // The walk reaches the routers mounted inside /api/v1 and the app-level tus routes.
    expect(registered.length).toBeGreaterThan(70);
    expect(registered).toEqual(
      expect.arrayContaining(['post /rounds/{id}/shortlist', 'put /periods/{id}/quotas/{countyId}', '* /uploads/{id}', 'get /openapi.json']),
    );
    const missing = registered.filter((k) => {
      const [method, p] = k.split(' ') as [string, string];
      return method === '*' ? !docPaths.has(p) : !doc.has(k);
    });
    expect(missing).toEqual([]);
  });

  test('when the OpenAPI document is read, then every operation it lists is a route the app registers', () => {
    const registered = registeredRoutes(t.app);
    const invented = [...documented()].filter((k) => {
      const p = k.split(' ')[1];
      return !registered.has(k) && !registered.has(`* ${p}`);
    });
    expect(invented).toEqual([]);
  });

  test('when a documented operation takes a JSON body, then the body is a named schema with its fields', () => {
    const doc = openApiDocument();
    const schemas = doc.components.schemas as Record<string, { properties?: object }>;
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops as Record<string, { requestBody?: { content: Record<string, { schema: { $ref?: string } }> } }>)) {
        const ref = op.requestBody?.content['application/json']?.schema.$ref;
        if (!op.requestBody?.content['application/json']) continue;
        expect({ op: `${method} ${p}`, ref: typeof ref }).toEqual({ op: `${method} ${p}`, ref: 'string' });
        expect(Object.keys(schemas[ref!.split('/').pop()!]?.properties ?? {}).length).toBeGreaterThan(0);
      }
    }
  });
});
