/**
 * Every action the code writes to the audit log has its Chinese words (issue 17: no raw codes on
 * a page). The audit page and 监督's round trail read AUDIT_ACTION_LABELS; a new `action: '…'`
 * without a label would show 「其他操作」, so this test names it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { AUDIT_ACTION_LABELS, AUDIT_OBJECT_LABELS } from '../../../src/review/review.messages';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sourceFiles(full) : full.endsWith('.ts') ? [full] : [];
  });
}

const SOURCES = sourceFiles(path.join(__dirname, '../../../src')).map((file) => readFileSync(file, 'utf8'));

test('when the code records an audit action or object type, then the audit pages have a Chinese label for it', () => {
  const actions = new Set<string>();
  const objects = new Set<string>();
  for (const text of SOURCES) {
    for (const m of text.matchAll(/action: '([a-z_.]+)'/g)) actions.add(m[1]!);
    for (const m of text.matchAll(/action: [^,\n]*\? '([a-z_]+\.[a-z_.]+)' : '([a-z_]+\.[a-z_.]+)'/g)) actions.add(m[1]!).add(m[2]!);
    for (const m of text.matchAll(/objectType: '([a-z_]+)'/g)) objects.add(m[1]!);
  }
  expect(actions.size).toBeGreaterThan(40);
  expect([...actions].filter((a) => !AUDIT_ACTION_LABELS[a])).toEqual([]);
  expect([...objects].filter((o) => !AUDIT_OBJECT_LABELS[o])).toEqual([]);
});
