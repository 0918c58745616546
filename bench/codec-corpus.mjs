// Benchmark (not a test): decodeMessage speed on the real-message corpus (../shared/bgp-corpus,
// 1660 messages from real routers' captures and other implementations' test vectors), with the
// codec loaded two ways: from the TypeScript sources through tsx (how tests and `bin/metallb-ts.js`
// without a build run it) and compiled to JavaScript (how `dist/` runs it).
//
//   node bench/codec-corpus.mjs [--root DIR] [--runs 5] [--seconds 1.5] [--corpus FILE] [--json FILE]
//
// --root DIR measures the codec of another checkout (e.g. a `git worktree` of an older commit),
// with this checkout's tsx and typescript. The compiled variant is built into a temp dir with
// TypeScript's transpileModule (no type check), so no `npm run build` is needed.
// Prints a table (stderr) and one JSON line per variant on stdout:
//   {"bench":"codec/corpus-decode","impl":"metallb-ts","from":"tsx","messages":1640,"msgsPerSecond":...,"min":...,"max":...}
// Internal: `--child FROM DIR` runs one measurement (FROM = tsx|js, DIR = the codec folder).
import { Buffer } from 'node:buffer';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..');
const argv = process.argv.slice(2);
const arg = (name, def) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : def;
};

const root = resolve(arg('--root', REPO));
const corpusFile = resolve(arg('--corpus', join(root, '..', 'shared', 'bgp-corpus', 'corpus.jsonl')));
const runs = Number(arg('--runs', '5'));
const seconds = Number(arg('--seconds', '1.5'));

/** The corpus as framed messages with their session options. */
async function frames(codec) {
  const out = [];
  for (const line of readFileSync(corpusFile, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const c = JSON.parse(line);
    const fr = new codec.MessageFramer({ maxMessageSize: c.opts.maxMessageSize ?? 4096 });
    fr.push(new Uint8Array(Buffer.from(c.hex, 'hex')));
    const f = fr.next();
    if (f && f.kind === 'frame') out.push({ type: f.type, body: f.body, opts: { fourOctetAS: c.opts.fourOctetAS, ...(c.opts.ebgp !== undefined ? { ebgp: c.opts.ebgp } : {}) } });
  }
  return out;
}

async function child(from, dir) {
  const codec = await import(pathToFileURL(join(dir, from === 'tsx' ? 'index.ts' : 'index.js')).href);
  const list = await frames(codec);
  const pass = () => {
    for (const f of list) codec.decodeMessage(f.type, f.body, f.opts);
  };
  for (let i = 0; i < 20; i++) pass(); // warm-up (JIT)
  const rates = [];
  for (let r = 0; r < runs; r++) {
    let rounds = 0;
    const t0 = process.hrtime.bigint();
    let t = t0;
    while (t - t0 < BigInt(Math.round(seconds * 1e9))) {
      pass();
      rounds++;
      t = process.hrtime.bigint();
    }
    rates.push((rounds * list.length) / (Number(t - t0) / 1e9));
  }
  rates.sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({ messages: list.length, median: rates[Math.floor(rates.length / 2)], min: rates[0], max: rates[rates.length - 1] }) + '\n');
}

/** Compiles DIR/*.ts to JavaScript in OUT (imports rewritten from .ts to .js). */
async function transpile(dir, out) {
  const { default: ts } = await import(pathToFileURL(join(REPO, 'node_modules', 'typescript', 'lib', 'typescript.js')).href);
  mkdirSync(out, { recursive: true });
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.ts')) continue;
    const js = ts.transpileModule(readFileSync(join(dir, name), 'utf8'), {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, rewriteRelativeImportExtensions: true, verbatimModuleSyntax: true },
    }).outputText;
    writeFileSync(join(out, name.replace(/\.ts$/, '.js')), js);
  }
  writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
}

async function compare() {
  if (!existsSync(corpusFile)) {
    process.stderr.write(`codec-corpus: ${corpusFile} not found (the corpus lives in ../shared/bgp-corpus beside the checkout; --corpus FILE)\n`);
    process.exit(2);
  }
  const src = join(root, 'src', 'bgp', 'codec');
  const tmp = mkdtempSync(join(tmpdir(), 'mlbt-codec-bench-'));
  try {
    await transpile(src, join(tmp, 'codec'));
    const rows = [];
    for (const [from, nodeArgs, dir] of [
      ['tsx', ['--import', 'tsx'], src],
      ['js', [], join(tmp, 'codec')],
    ]) {
      const r = spawnSync(process.execPath, [...nodeArgs, fileURLToPath(import.meta.url), '--child', from, dir, '--corpus', corpusFile, '--runs', String(runs), '--seconds', String(seconds)], {
        cwd: REPO,
        encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(`${from} run failed: ${r.stderr}`);
      const m = JSON.parse(r.stdout.trim().split('\n').pop());
      rows.push({ bench: 'codec/corpus-decode', impl: 'metallb-ts', from, root, messages: m.messages, msgsPerSecond: Math.round(m.median), min: Math.round(m.min), max: Math.round(m.max) });
    }
    const fmt = (n) => n.toLocaleString('en-US');
    process.stderr.write(`decodeMessage on ${rows[0].messages} corpus messages (${root}), median of ${runs} x ${seconds} s\n`);
    process.stderr.write('codec loaded from        msg/s (median)   min – max\n');
    for (const r of rows) process.stderr.write(`${(r.from === 'tsx' ? 'src via tsx' : 'compiled JS').padEnd(24)} ${fmt(r.msgsPerSecond).padStart(14)}   ${fmt(r.min)} – ${fmt(r.max)}\n`);
    process.stderr.write(`compiled / tsx: ${(rows[1].msgsPerSecond / rows[0].msgsPerSecond).toFixed(2)}x\n`);
    const json = arg('--json');
    for (const r of rows) {
      process.stdout.write(JSON.stringify(r) + '\n');
      if (json) appendFileSync(json, JSON.stringify(r) + '\n');
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const ci = argv.indexOf('--child');
if (ci >= 0) await child(argv[ci + 1], argv[ci + 2]);
else await compare();
