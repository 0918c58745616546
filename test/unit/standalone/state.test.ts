import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { BackgroundStateWriter, loadState, previousStateName, saveState, serializeState } from '../../../src/standalone/state.ts';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'mlbt-state-'));
}

test('missing state file gives empty assignments and no error', () => {
  const d = tmp();
  try {
    const s = loadState(join(d, 'none.json'));
    assert.deepEqual(s, { assignments: {}, dropped: [] });
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('save then load round-trips, sorted, no temp file left behind', () => {
  const d = tmp();
  try {
    const p = join(d, 'state.json');
    saveState(p, { 'b/svc': { ips: ['192.0.2.2'], pool: 'p' }, 'a/svc': { ips: ['192.0.2.1', '2001:db8::1'], pool: 'p' } });
    assert.deepEqual(readdirSync(d), ['state.json']);
    const text = readFileSync(p, 'utf8');
    assert.ok(text.indexOf('a/svc') < text.indexOf('b/svc'));
    const s = loadState(p);
    assert.equal(s.error, undefined);
    assert.deepEqual(s.assignments, {
      'a/svc': { ips: ['192.0.2.1', '2001:db8::1'], pool: 'p' },
      'b/svc': { ips: ['192.0.2.2'], pool: 'p' },
    });
    // overwrite replaces the whole content
    saveState(p, {});
    assert.deepEqual(loadState(p).assignments, {});
    assert.equal(readFileSync(p, 'utf8'), serializeState({}));
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('corrupt or wrong-version files are reported, not thrown', () => {
  const d = tmp();
  try {
    const p = join(d, 's.json');
    writeFileSync(p, '{ not json');
    const a = loadState(p);
    assert.deepEqual(a.assignments, {});
    assert.match(a.error ?? '', /not valid JSON/);
    writeFileSync(p, JSON.stringify({ version: 7, assignments: {} }));
    assert.match(loadState(p).error ?? '', /unsupported state file version 7/);
    writeFileSync(p, '[]');
    assert.match(loadState(p).error ?? '', /must be a JSON object/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('malformed entries are dropped, good ones kept', () => {
  const d = tmp();
  try {
    const p = join(d, 's.json');
    writeFileSync(
      p,
      JSON.stringify({
        version: 1,
        assignments: {
          'ns/good': { ips: ['10.0.0.1'], pool: 'x' },
          'ns/badip': { ips: ['10.0.0.300'], pool: 'x' },
          'ns/noips': { ips: [], pool: 'x' },
          nokey: { ips: ['10.0.0.2'], pool: 'x' },
          'ns/nopool': { ips: ['10.0.0.3'] },
        },
      }),
    );
    const s = loadState(p);
    assert.equal(s.error, undefined);
    assert.deepEqual(s.assignments, { 'ns/good': { ips: ['10.0.0.1'], pool: 'x' } });
    assert.deepEqual(s.dropped.sort(), ['nokey', 'ns/badip', 'ns/noips', 'ns/nopool']);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('saveState into a missing directory throws a precise error and leaves nothing', () => {
  const d = tmp();
  try {
    assert.throws(() => saveState(join(d, 'nope', 's.json'), {}), /cannot write state file .*nope\/s\.json/);
    assert.deepEqual(readdirSync(d), []);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('each write keeps the replaced file as .prev; a corrupt file falls back to it', () => {
  const d = tmp();
  try {
    const p = join(d, 'state.json');
    saveState(p, { 'ns/a': { ips: ['192.0.2.1'], pool: 'p' } });
    assert.deepEqual(readdirSync(d), ['state.json'], 'first write: nothing to keep');
    saveState(p, { 'ns/a': { ips: ['192.0.2.1'], pool: 'p' }, 'ns/b': { ips: ['192.0.2.2'], pool: 'p' } });
    assert.deepEqual(readdirSync(d).sort(), ['state.json', 'state.json.prev']);
    assert.deepEqual(Object.keys(loadState(`${p}.prev`).assignments), ['ns/a']);
    // truncated main file (lost tail)
    const full = readFileSync(p, 'utf8');
    writeFileSync(p, full.slice(0, Math.floor(full.length / 2)));
    const s = loadState(p);
    assert.deepEqual(s.assignments, { 'ns/a': { ips: ['192.0.2.1'], pool: 'p' } });
    assert.equal(s.recoveredFrom, `${p}.prev`);
    assert.match(s.error ?? '', /not valid JSON.*recovered 1 assignment\(s\) from the previous generation/);
    assert.ok(s.recoveredWrittenAt !== undefined && !Number.isNaN(Date.parse(s.recoveredWrittenAt)));
    // writing without rotation keeps the good .prev (the bad file is not kept)
    saveState(p, s.assignments, { rotate: false });
    assert.deepEqual(Object.keys(loadState(`${p}.prev`).assignments), ['ns/a']);
    assert.equal(loadState(p).error, undefined);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('both generations unusable: empty, and the error says so', () => {
  const d = tmp();
  try {
    const p = join(d, 'state.json');
    writeFileSync(p, '{"version":1,"assignments":');
    assert.match(loadState(p).error ?? '', /no previous generation/);
    writeFileSync(`${p}.prev`, 'garbage');
    const s = loadState(p);
    assert.deepEqual(s.assignments, {});
    assert.equal(s.recoveredFrom, undefined);
    assert.match(s.error ?? '', /previous generation is unusable too/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('background writer: one write at a time, the latest of the waiting ones wins, .prev kept, errors reported', async () => {
  const d = mkdtempSync(join(tmpdir(), 'mlbt-state-bg-'));
  try {
    const path = join(d, 'state.json');
    const w = new BackgroundStateWriter(path);
    const done: string[] = [];
    const text = (ip: string): string => serializeState({ 'default/a': { ips: [ip], pool: 'p' } });
    w.write(text('192.0.2.1'), () => true, (e) => done.push(`1:${e === null ? 'ok' : e.message}`));
    // asked for while the first runs: only the last of these is written
    w.write(text('192.0.2.2'), () => true, (e) => done.push(`2:${e === null ? 'ok' : e.message}`));
    w.write(text('192.0.2.3'), () => true, (e) => done.push(`3:${e === null ? 'ok' : e.message}`));
    await w.settle();
    assert.deepEqual(done, ['1:ok', '3:ok']);
    assert.deepEqual(loadState(path).assignments, { 'default/a': { ips: ['192.0.2.3'], pool: 'p' } });
    assert.deepEqual(loadState(previousStateName(path)).assignments, { 'default/a': { ips: ['192.0.2.1'], pool: 'p' } });
    assert.deepEqual(readdirSync(d).sort(), ['state.json', 'state.json.prev'], 'no temp file left');

    const bad = new BackgroundStateWriter(join(d, 'missing', 'state.json'));
    let err: Error | null = null;
    bad.write(text('192.0.2.4'), () => true, (e) => (err = e));
    await bad.settle();
    assert.match(String((err as Error | null)?.message), /cannot write state file .*missing\/state\.json: ENOENT/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
