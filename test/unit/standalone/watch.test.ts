import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
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
  const w = new FolderWatcher([d], { debounceMs: 40, onChange: () => {
    changes++;
  }, ignore: (n) => n === 'state.json' });
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

/** A temp folder and a watcher on it that records every change (with the files' content then). */
async function withWatcher(
  debounceMs: number,
  fn: (d: string, calls: { files: string[]; sweep: boolean; content: Map<string, string | null> }[], opts: { hold?: Promise<void> }) => Promise<void>,
): Promise<void> {
  const d = mkdtempSync(join(tmpdir(), 'mlbt-watch-'));
  const calls: { files: string[]; sweep: boolean; content: Map<string, string | null> }[] = [];
  const opts: { hold?: Promise<void> } = {};
  const w = new FolderWatcher([d], {
    debounceMs,
    ignore: (n) => n === 'state.json',
    onChange: (c) => {
      const content = new Map<string, string | null>();
      for (const f of c.files) {
        try {
          content.set(f, readFileSync(f, 'utf8'));
        } catch {
          content.set(f, null);
        }
      }
      calls.push({ ...c, content });
      return opts.hold;
    },
  });
  try {
    await fn(d, calls, opts);
  } finally {
    w.close();
    rmSync(d, { recursive: true, force: true });
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function putAtomically(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

// The quiet period is a minute in these tests: a change seen before it ended took the fast path.
test('a rename into place and an unlink are handed over at once, naming the file', async () => {
  await withWatcher(60_000, async (d, calls) => {
    const f = join(d, 'svc.yaml');
    putAtomically(f, 'a: 1\n');
    await waitFor(() => calls.length === 1, 20_000);
    assert.deepEqual(calls[0]?.files, [f]);
    assert.equal(calls[0]?.sweep, false);
    assert.equal(calls[0]?.content.get(f), 'a: 1\n');
    unlinkSync(f);
    await waitFor(() => calls.length === 2, 20_000);
    assert.deepEqual(calls[1]?.files, [f]);
    assert.equal(calls[1]?.content.get(f), null);
  });
});

test('an in-place write waits for the quiet period; a partial new file is never handed over', async () => {
  await withWatcher(1000, async (d, calls) => {
    // created in place and written in two steps (`cat > new.yaml`)
    const f = join(d, 'new.yaml');
    const fd = openSync(f, 'w');
    writeSync(fd, 'apiVersion: v1\n');
    await sleep(100);
    assert.equal(calls.length, 0, 'nothing while the file is being written');
    writeSync(fd, 'kind: Service\n');
    closeSync(fd);
    await waitFor(() => calls.length === 1, 20_000);
    assert.deepEqual(calls[0]?.files, [f]);
    assert.equal(calls[0]?.content.get(f), 'apiVersion: v1\nkind: Service\n');
    // an in-place rewrite of an existing file: quiet period too
    writeFileSync(f, 'kind: Node\n');
    await sleep(100);
    assert.equal(calls.length, 1);
    await waitFor(() => calls.length === 2, 20_000);
    assert.deepEqual(calls[1]?.files, [f]);
  });
});

test('a file removed and another created in place in the same turn: both wait for quiet (it may be its replacement)', async () => {
  await withWatcher(1000, async (d, calls) => {
    const old = join(d, 'old.yaml');
    putAtomically(old, 'a: 1\n');
    await waitFor(() => calls.length === 1, 20_000);
    unlinkSync(old);
    const f = join(d, 'new.yaml');
    const fd = openSync(f, 'w');
    writeSync(fd, 'a: ');
    await sleep(100);
    assert.equal(calls.length, 1, 'neither the removal nor the half-written file is handed over yet');
    writeSync(fd, '2\n');
    closeSync(fd);
    await waitFor(() => calls.length === 2, 20_000);
    assert.deepEqual(calls[1]?.files, [f, old]);
    assert.equal(calls[1]?.content.get(f), 'a: 2\n');
    assert.equal(calls[1]?.content.get(old), null);
  });
});

test('a file replaced by unlink + create (git checkout) or by a backup rename + new file (vim): never handed over as removed', async () => {
  await withWatcher(50, async (d, calls) => {
    const f = join(d, 'svc.yaml');
    putAtomically(f, 'v: 1\n');
    await waitFor(() => calls.length === 1, 20_000);
    // git: unlink, then create and write the new version
    unlinkSync(f);
    writeFileSync(f, 'v: 2\n');
    await waitFor(() => calls.some((c) => c.content.get(f) === 'v: 2\n'), 20_000);
    // vim (backupcopy=no/auto): rename to the backup, write the new file in place, drop the backup
    const n = calls.length;
    renameSync(f, `${f}~`);
    await sleep(20); // the new file comes well after the removal was seen (the backup name tells)
    writeFileSync(f, 'v: 3\n');
    unlinkSync(`${f}~`);
    await waitFor(() => calls.some((c) => c.content.get(f) === 'v: 3\n'), 20_000);
    await sleep(100);
    assert.ok(calls.length > n);
    for (const c of calls) if (c.files.includes(f)) assert.notEqual(c.content.get(f), null, `a change handed over ${f} while it did not exist: ${JSON.stringify(c.files)}`);
  });
});

test('temporary names and ignored names cause nothing; a new subfolder is watched and read', async () => {
  await withWatcher(50, async (d, calls) => {
    writeFileSync(join(d, 'x.yaml.tmp'), 'a: 1\n');
    unlinkSync(join(d, 'x.yaml.tmp'));
    writeFileSync(join(d, 'state.json'), '{}');
    await sleep(300);
    assert.equal(calls.length, 0);
    mkdirSync(join(d, 'sub'));
    await waitFor(() => calls.length === 1, 20_000);
    assert.equal(calls[0]?.sweep, true, 'a new folder: everything is read again');
    const f = join(d, 'sub', 'svc.yaml');
    putAtomically(f, 'a: 1\n');
    await waitFor(() => calls.length === 2, 20_000);
    assert.deepEqual(calls[1]?.files, [f]);
  });
});

test('changes during a running onChange are handed over in exactly one follow-up call', async () => {
  await withWatcher(20, async (d, calls, opts) => {
    let release: () => void = () => undefined;
    opts.hold = new Promise<void>((r) => (release = r));
    putAtomically(join(d, 'a.yaml'), 'a: 1\n');
    await waitFor(() => calls.length === 1, 20_000);
    // onChange is still running: these three wait for it
    putAtomically(join(d, 'b.yaml'), 'b: 1\n');
    writeFileSync(join(d, 'c.yaml'), 'c: 1\n');
    unlinkSync(join(d, 'a.yaml'));
    await sleep(1000);
    assert.equal(calls.length, 1);
    delete opts.hold;
    release();
    await waitFor(() => calls.length === 2, 20_000);
    await sleep(300);
    assert.equal(calls.length, 2);
    assert.deepEqual(calls[1]?.files, ['a.yaml', 'b.yaml', 'c.yaml'].map((n) => join(d, n)));
  });
});
