import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { isClosedKernelSocket } from 'prune-at-init';

const ROOT = (() => { let d = __dirname; while (!fs.existsSync(path.join(d, 'lib', 'package.json'))) d = path.dirname(d); return d; })();
const run = (mode: string) => spawnSync(process.execPath, [path.join(ROOT, 'test', 'fixtures', 'kernel', 'closed-socket.js'), mode, ROOT],
  { encoding: 'utf8', env: { ...process.env, PRUNE_AT_INIT_BACKEND: 'wasm' } });

describe('tslab kernel shutdown: "Socket is closed" (issue 14 defect 8)', function () {
  this.timeout(60000);

  it('cause: tslab writing to its closed iopub socket throws EBADF, fatal without the guard', () => {
    const r = run('bare');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Error: Socket is closed/);
    assert.match(r.stderr, /tslab[\\/]dist[\\/]jupyter\.js/);
    assert.doesNotMatch(r.stderr, /tf-backend-wasm/, 'the wasm runtime no longer rethrows it');
    assert.doesNotMatch(r.stdout, /survived/);
  });

  it('with the guard the kernel stays quiet and lives on; any other error is still reported', () => {
    const g = run('guard');
    assert.equal(g.status, 0, g.stderr);
    assert.equal(g.stdout, 'survived\n');
    assert.doesNotMatch(g.stderr, /Socket is closed/);
    const o = run('other');
    assert.notEqual(o.status, 0);
    assert.match(o.stderr, /an unrelated failure/);
    assert.doesNotMatch(o.stdout, /survived/);
  });

  it('recognises only zeromq\'s EBADF thrown from tslab\'s messaging code', () => {
    const e = Object.assign(new Error('Socket is closed'), { code: 'EBADF' });
    e.stack = 'Error: Socket is closed\n    at ZmqMessage.signAndSend (/x/node_modules/tslab/dist/jupyter.js:143:14)';
    assert.equal(isClosedKernelSocket(e), true);
    assert.equal(isClosedKernelSocket(Object.assign(new Error('Socket is closed'), { code: 'EBADF' })), false);
    assert.equal(isClosedKernelSocket(Object.assign(new Error('other'), { code: 'EBADF', stack: e.stack })), false);
    assert.equal(isClosedKernelSocket(null), false);
  });
});
