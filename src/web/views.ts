import fs from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { registerViewHelpers } from './view-helpers';

/**
 * Server-rendered Handlebars. Every template under views/ is compiled once at start-up from our
 * own files (never from user data); partials are the files in views/partials; every page is
 * wrapped in views/layouts/main.hbs. `{{ }}` escapes; `{{{ }}}` is used only for the rendered body.
 */
export interface ViewEngine {
  render(view: string, data: Record<string, unknown>): string;
}

export function resolveViewsDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'views');
    if (fs.existsSync(path.join(candidate, 'layouts', 'main.hbs'))) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error('views/ folder not found');
}

function walk(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith('.hbs') ? [path.join(dir, e.name)] : []));
}

export function createViewEngine(viewsDir = resolveViewsDir()): ViewEngine {
  const hbs = Handlebars.create();
  registerViewHelpers(hbs);
  const templates = new Map<string, Handlebars.TemplateDelegate>();
  for (const file of walk(viewsDir)) {
    const name = path
      .relative(viewsDir, file)
      .replace(/\\/g, '/')
      .replace(/\.hbs$/, '');
    const source = fs.readFileSync(file, 'utf8');
    if (name.startsWith('partials/')) hbs.registerPartial(name.slice('partials/'.length), source);
    else templates.set(name, hbs.compile(source, { strict: false, knownHelpersOnly: false }));
  }
  const layout = templates.get('layouts/main');
  if (!layout) throw new Error('views/layouts/main.hbs is missing');
  const options: Handlebars.RuntimeOptions = { allowProtoPropertiesByDefault: false, allowProtoMethodsByDefault: false };
  return {
    render(view, data) {
      const template = templates.get(view);
      if (!template) throw new Error(`view not found: ${view}`);
      const body = template(data, options);
      return layout({ ...data, body }, options);
    },
  };
}
