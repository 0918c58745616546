import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { FolderWatcher } from '../../../src/standalone/watch.ts';

function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (cond()) resolve();
      else if (Date.now() > end) reject(new Error('timeout'));
      else setTimeout(tick, 5);
    };
    tick();
  });
}

test('a burst of writes produces one change; subfolders are watched; ignored names are ignored', async () => {
  const d = mkdtempSync(join(tmpdir(), 'mlbt-watch-'));
  let changes = 0;
  const w = new FolderWatcher([d], { debounceMs: 40, onChange: () => changes++, ignore: (n) => n === 'state.json' });
  try {
    for (let i = 0; i < 5; i++) writeFileSync(join(d, `f${i}.yaml`), `x: ${i}\n`);
    await waitFor(() => changes === 1);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(changes, 1);

    writeFileSync(join(d, 'state.json'), '{}');
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(changes, 1, 'ignored file triggers nothing');

    mkdirSync(join(d, 'sub'));
    await waitFor(() => changes === 2);
    assert.ok(w.watched().includes(join(d, 'sub')));
    writeFileSync(join(d, 'sub', 'svc.yaml'), 'a: 1\n');
    await waitFor(() => changes === 3);
    unlinkSync(join(d, 'sub', 'svc.yaml'));
    await waitFor(() => changes === 4);
  } finally {
    w.close();
    rmSync(d, { recursive: true, force: true });
  }
});
