import fs from 'node:fs';
import path from 'node:path';

/**
 * Routes parse input and render; services and repositories talk to the database. A route or page
 * file that imports Kysely or the database module has SQL in it (or is about to).
 */
const SRC = path.resolve(__dirname, '../../../src');
const FORBIDDEN = [
  /from\s+['"]kysely['"]/,
  /from\s+['"][./]*\/?platform\/db\/[^'"]*['"]/,
  /from\s+['"]\.\.?\/db\/[^'"]*['"]/,
  /require\(\s*['"]kysely['"]\s*\)/,
];

function routeFiles(): string[] {
  return fs
    .readdirSync(SRC, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) =>
      fs
        .readdirSync(path.join(SRC, d.name))
        .filter((f) => /\.(routes|pages)\.ts$/.test(f))
        .map((f) => path.join(SRC, d.name, f)),
    );
}

describe('architecture: routes hold no SQL', () => {
  it('when the route and page files are listed, then there are some (the check is not vacuous)', () => {
    const names = routeFiles().map((f) => path.relative(SRC, f));
    expect(names).toEqual(expect.arrayContaining(['review/review.routes.ts', 'judging/judging.pages.ts', 'entries/entry.routes.ts']));
  });

  it.each(routeFiles().map((f) => [path.relative(SRC, f), f]))('when %s is read, then it imports neither kysely nor the database module', (_name, file) => {
    const offending = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => FORBIDDEN.some((re) => re.test(line)));
    expect(offending).toEqual([]);
  });
});

describe('architecture: workers/ holds entry points only', () => {
  function tsFiles(dir: string): string[] {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .flatMap((d) => (d.isDirectory() ? tsFiles(path.join(dir, d.name)) : d.name.endsWith('.ts') ? [path.join(dir, d.name)] : []));
  }

  it('when src/ is read, then no file imports from workers/ (the worker runtime lives in src/platform/queue/)', () => {
    const offending = tsFiles(SRC).filter((f) => /from\s+['"](\.\.\/)+workers\//.test(fs.readFileSync(f, 'utf8')));
    expect(offending.map((f) => path.relative(SRC, f))).toEqual([]);
  });

  it('when workers/ is listed, then it holds only main.ts', () => {
    expect(fs.readdirSync(path.resolve(SRC, '../workers'))).toEqual(['main.ts']);
  });
});
