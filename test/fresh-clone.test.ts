/**
 * A new user's first steps (issue 14 defect 1): clone the repository into a temporary folder, run
 * `npm ci` there, then every `prune-at-init` command the README shows, exactly as written. This
 * clones the committed HEAD, so it tests what a user would get (commit before running it). It takes
 * a minute or two: npm installs from its cache, then builds the native kernels and lib/.
 */
import { strict as assert } from 'assert';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = (() => { let d = __dirname; while (!fs.existsSync(path.join(d, 'lib', 'package.json'))) d = path.dirname(d); return d; })();

/** The environment of a new user: none of this project's variables. */
function userEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('PRUNE_AT_INIT_') || k.startsWith('npm_') || k === 'NODE_PATH') delete env[k];
  return env;
}

/**
 * Shell commands of the README's bash blocks that run the CLI, comments stripped. The cluster examples
 * (sh blocks: a paper-budget sweep on Slurm) are run at the smoke budget by test/slurm.test.ts.
 */
function readmeCommands(readme: string): string[] {
  const blocks = [...readme.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]);
  return blocks.flatMap((b) => b.split('\n')).map((l) => l.replace(/\s+#.*$/, '').trim()).filter((l) => /\bprune-at-init\b/.test(l) && !l.startsWith('import'));
}

describe('fresh clone: npm ci, then the README commands (issue 14 defect 1)', function () {
  this.timeout(300000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fresh-clone-'));
  const clone = path.join(tmp, 'prune-at-init');
  after(() => execFileSync('rm', ['-rf', tmp])); // faster than fs.rmSync on a node_modules tree

  it('the bin is linked and executable, and every README command works from the clone', () => {
    execFileSync('git', ['clone', '--quiet', '--no-hardlinks', ROOT, clone]);
    const ci = spawnSync('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: clone, env: userEnv(), encoding: 'utf8' });
    assert.equal(ci.status, 0, `npm ci failed:\n${ci.stdout.slice(-3000)}\n${ci.stderr.slice(-3000)}`);

    const bin = path.join(clone, 'node_modules', '.bin', 'prune-at-init');
    assert.ok(fs.existsSync(bin), 'npm ci did not link the prune-at-init bin');
    fs.accessSync(fs.realpathSync(bin), fs.constants.X_OK);
    const mode = execFileSync('git', ['ls-files', '-s', 'lib/bin/prune-at-init.js'], { cwd: clone, encoding: 'utf8' });
    assert.match(mode, /^100755 /, 'lib/bin/prune-at-init.js must be committed executable');

    const commands = readmeCommands(fs.readFileSync(path.join(clone, 'README.md'), 'utf8'));
    const shown = commands.map((c) => c.split(/\s+/).slice(3, 4)[0]);
    for (const need of ['--version', 'info', 'eoc', 'prune']) assert.ok(shown.includes(need), `README shows no '${need}' command: ${commands.join(' | ')}`);
    const version = JSON.parse(fs.readFileSync(path.join(clone, 'lib', 'package.json'), 'utf8')).version;
    for (const cmd of commands) {
      assert.match(cmd, /^npx --no-install prune-at-init /, `README command does not pin the local package: ${cmd}`);
      const r = spawnSync('sh', ['-c', cmd], { cwd: clone, env: userEnv(), encoding: 'utf8' });
      assert.equal(r.status, 0, `${cmd}\n${r.stderr}`);
      if (cmd.endsWith('--version')) assert.equal(r.stdout, `${version}\n`);
      else assert.ok(JSON.parse(r.stdout), cmd);
    }
    const info = JSON.parse(spawnSync('npx', ['--no-install', 'prune-at-init', 'info'], { cwd: path.join(clone, 'notebooks'), env: userEnv(), encoding: 'utf8' }).stdout);
    assert.ok(info.datasets.some((d: { name: string; available: boolean }) => d.name === 'mnist' && d.available), 'from a subfolder too');
  });

  it('the bin builds lib/dist itself when it is missing', () => {
    fs.rmSync(path.join(clone, 'lib', 'dist'), { recursive: true, force: true });
    const r = spawnSync(path.join(clone, 'node_modules', '.bin', 'prune-at-init'), ['eoc', '--activation', 'tanh'], { cwd: clone, env: userEnv(), encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /building lib\/dist/);
    assert.equal(JSON.parse(r.stdout).activation, 'tanh');
  });

  it('outside the clone, npx --no-install does not fetch a registry package of that name', () => {
    const elsewhere = fs.mkdtempSync(path.join(tmp, 'elsewhere-'));
    const r = spawnSync('npx', ['--no-install', 'prune-at-init', '--version'], { cwd: elsewhere, env: { ...userEnv(), npm_config_yes: 'false' }, encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.ok(!fs.existsSync(path.join(elsewhere, 'node_modules')));
  });
});
