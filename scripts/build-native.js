#!/usr/bin/env node
/**
 * Build the optional OpenBLAS addon (native/ -> native/build/Release/prune_at_init_blas.node).
 * Run by `npm install`. Never fails the install: without libopenblas-dev, node headers or a
 * compiler it explains why and exits 0, and the library runs on TF.js's own kernels.
 * `--strict` makes a failed build exit 1 (for checking a machine that should have it).
 */
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const nativeDir = path.join(root, 'native');
const out = path.join(nativeDir, 'build', 'Release', 'prune_at_init_blas.node');
const strict = process.argv.includes('--strict');

function log(msg) { console.log(`[prune-at-init native] ${msg}`); }

function giveUp(why) {
  log(`not built: ${why}. TF.js's own kernels will be used (slower training on wasm/cpu).`);
  process.exit(strict ? 1 : 0);
}

if (process.env.PRUNE_AT_INIT_NATIVE === '0') giveUp('PRUNE_AT_INIT_NATIVE=0');

// OpenBLAS: the cblas header and the library (Debian: libopenblas-dev).
const includeDirs = ['/usr/include', '/usr/local/include', '/usr/include/openblas', '/opt/homebrew/opt/openblas/include'];
for (const base of ['/usr/include']) {
  for (const d of fs.existsSync(base) ? fs.readdirSync(base) : []) {
    if (d.endsWith('-linux-gnu')) includeDirs.push(path.join(base, d, 'openblas-pthread'), path.join(base, d));
  }
}
const cblasDir = includeDirs.find((d) => fs.existsSync(path.join(d, 'cblas.h')));
if (!cblasDir) giveUp('no cblas.h found (install libopenblas-dev)');

// Node's own headers, so no download is needed (Debian's nodejs ships them in /usr/include/node).
const prefix = path.resolve(path.dirname(process.execPath), '..');
const nodedir = process.env.npm_config_nodedir ||
  (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : null);

function findNodeGyp() {
  const candidates = [];
  try { candidates.push(require.resolve('node-gyp/bin/node-gyp.js')); } catch { /* not a local dependency */ }
  if (process.env.npm_execpath) {
    candidates.push(path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  }
  candidates.push(path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((c) => fs.existsSync(c)) || null;
}

function viaNodeGyp() {
  const gyp = findNodeGyp();
  if (!gyp) return 'node-gyp not found';
  const args = [gyp, 'rebuild', '--release'];
  if (nodedir) args.push(`--nodedir=${nodedir}`);
  const r = spawnSync(process.execPath, args, { cwd: nativeDir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  return r.status === 0 ? null : `node-gyp failed:\n${(r.stderr || '').split('\n').filter((l) => !l.startsWith('gyp info')).slice(-15).join('\n')}`;
}

// Fallback without node-gyp: the C files, node_api.h, -lopenblas, OpenMP.
function viaCc() {
  if (!nodedir) return 'no node headers for a direct compile';
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const cc = process.env.CC || 'cc';
  const r = spawnSync(cc, ['-O3', '-fno-trapping-math', '-std=c11', '-D_POSIX_C_SOURCE=200809L', '-DNODE_GYP_MODULE_NAME=prune_at_init_blas', '-fPIC', '-shared',
    '-fopenmp', `-I${path.join(nodedir, 'include', 'node')}`, `-I${cblasDir}`, path.join(nativeDir, 'blas_kernels.c'),
    path.join(nativeDir, 'sparse_kernels.c'), '-o', out, '-lopenblas', '-lm'],
    { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  return r.status === 0 ? null : `${cc} failed: ${r.error ? r.error.message : r.stderr.split('\n').slice(0, 10).join('\n')}`;
}

fs.rmSync(out, { force: true }); // never leave a stale build behind a failed one
const errors = [];
for (const build of [viaNodeGyp, viaCc]) {
  const err = build();
  if (!err) break;
  errors.push(err);
}
if (!fs.existsSync(out) || errors.length === 2) giveUp(errors.join('; '));

// Load it in a fresh process: a library that links but cannot load is no better than none.
const check = spawnSync(process.execPath, ['-e', `const b = require(${JSON.stringify(out)}); console.log(JSON.stringify(b.info()))`],
  { encoding: 'utf8' });
if (check.status !== 0) {
  fs.rmSync(out, { force: true });
  giveUp(`built but does not load: ${(check.stderr || '').split('\n')[0]}`);
}
log(`built ${path.relative(root, out)} (${JSON.parse(check.stdout).config})`);
