#!/usr/bin/env node
// Committed entry point of the `prune-at-init` command. npm links workspace bins during `npm ci`
// before the root `prepare` script compiles lib/dist, and silently skips a bin whose target is
// missing, so the bin cannot point into dist/ itself. If dist/ is absent (a fresh clone whose
// build has not run), build it once with the workspace's TypeScript, then run the CLI.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const lib = path.join(__dirname, '..');
const cli = path.join(lib, 'dist', 'cli.js');
if (!fs.existsSync(cli)) {
  let tsc;
  try { tsc = require.resolve('typescript/bin/tsc', { paths: [lib] }); } catch {
    process.stderr.write(`prune-at-init: ${cli} is missing and TypeScript is not installed to build it; run \`npm ci\` in the repository root.\n`);
    process.exit(1);
  }
  process.stderr.write('prune-at-init: building lib/dist (first run after install) ...\n');
  const r = spawnSync(process.execPath, [tsc, '-b', lib], { stdio: ['ignore', 2, 2] }); // tsc reports errors on stdout: show them on stderr
  if (r.status !== 0 || !fs.existsSync(cli)) {
    process.stderr.write(`prune-at-init: building lib/dist failed (tsc exit ${r.status}); run \`npm run build\` in the repository root and see its errors.\n`);
    process.exit(1);
  }
}
require(cli).main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
