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

/**
 * Services decide, repositories read and write: outside `*.repository.ts` (and the platform's own
 * database, queue and storage plumbing under src/platform/) no file builds a query, neither with
 * Kysely's builders nor with a raw `sql` template.
 */
const QUERY_BUILDING = [
  /\.(selectFrom|insertInto|updateTable|deleteFrom|replaceInto|mergeInto|selectNoFrom)\(/,
  /\bsql\s*(<[^`]*>)?\s*`/,
  /\bsql\.(raw|ref|lit|join|id|table|val)\(/,
  /^\s*import\s+(?!type\b)[^;]*\bsql\b[^;]*from\s+['"]kysely['"]/m,
];

function tsFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((d) => (d.isDirectory() ? tsFiles(path.join(dir, d.name)) : d.name.endsWith('.ts') ? [path.join(dir, d.name)] : []));
}

function nonRepositoryFiles(): string[] {
  return tsFiles(SRC).filter((f) => {
    const rel = path.relative(SRC, f).split(path.sep).join('/');
    return !rel.startsWith('platform/') && !rel.endsWith('.repository.ts');
  });
}

describe('architecture: only repositories build queries', () => {
  it('when the files outside repositories and platform/ are listed, then there are some (the check is not vacuous)', () => {
    const names = nonRepositoryFiles().map((f) => path.relative(SRC, f).split(path.sep).join('/'));
    expect(names).toEqual(
      expect.arrayContaining([
        'accounts/auth.service.ts',
        'entries/entry.service.ts',
        'entries/ingest.job.ts',
        'entries/entries.todo.ts',
        'org/school-import.ts',
      ]),
    );
    expect(names.filter((n) => n.endsWith('.repository.ts') || n.startsWith('platform/'))).toEqual([]);
  });

  it('when the patterns are tried on query-building lines, then each is caught (the check can fail)', () => {
    const samples = [
      "await db.selectFrom('videos').select('id').execute();",
      "  .insertInto('schools')",
      "trx.updateTable('entries').set({ video_id: id })",
      "db.deleteFrom('login_failures')",
      "sql<string>`count(*)`.as('n')",
      'await sql`DELETE FROM jobs`.execute(db);',
      "sql.raw('now()')",
      "import { sql, type Kysely } from 'kysely';",
    ];
    expect(samples.filter((line) => !QUERY_BUILDING.some((re) => re.test(line)))).toEqual([]);
    expect(QUERY_BUILDING.some((re) => re.test("import type { Kysely, Transaction } from 'kysely';"))).toBe(false);
  });

  it.each(nonRepositoryFiles().map((f) => [path.relative(SRC, f), f]))(
    'when %s is read, then it builds no query (its SQL lives in a repository)',
    (_name, file) => {
      const text = fs.readFileSync(file, 'utf8');
      const offending = text.split('\n').filter((line) => QUERY_BUILDING.some((re) => re.test(line)));
      expect(offending).toEqual([]);
    },
  );
});

describe('architecture: workers/ holds entry points only', () => {
  it('when src/ is read, then no file imports from workers/ (the worker runtime lives in src/platform/queue/)', () => {
    const offending = tsFiles(SRC).filter((f) => /from\s+['"](\.\.\/)+workers\//.test(fs.readFileSync(f, 'utf8')));
    expect(offending.map((f) => path.relative(SRC, f))).toEqual([]);
  });

  it('when workers/ is listed, then it holds only main.ts', () => {
    expect(fs.readdirSync(path.resolve(SRC, '../workers'))).toEqual(['main.ts']);
  });
});
