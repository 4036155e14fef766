/**
 * Every template parses. A page whose template does not (an `{{#if}}` left open by a merge, say)
 * answers 500 on every visit, for every role that opens it; this names the file at once.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';

const VIEWS = path.join(__dirname, '../../../views');

function templates(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? templates(full) : full.endsWith('.hbs') ? [full] : [];
  });
}

const files = templates(VIEWS);

test('when the views folder is read, then it holds the pages', () => {
  expect(files.length).toBeGreaterThan(40);
});

test.each(files.map((f) => [path.relative(VIEWS, f), f]))('when %s is compiled, then it parses', (_name, file) => {
  expect(() => Handlebars.precompile(readFileSync(file, 'utf8'))).not.toThrow();
});
