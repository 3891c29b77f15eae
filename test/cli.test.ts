import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { eocSigmaW, activationByName, writeFileAtomic } from 'prune-at-init';
import { main, commands, version } from 'prune-at-init/dist/cli';

/** Run the CLI in-process: exit code, stdout and stderr kept apart. */
async function cli(argv: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const o = process.stdout.write.bind(process.stdout), e = process.stderr.write.bind(process.stderr);
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  process.stdout.write = ((c: string | Uint8Array) => { out += String(c); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => { err += String(c); return true; }) as typeof process.stderr.write;
  try {
    return { code: await main(argv), out, err };
  } finally {
    process.stdout.write = o; process.stderr.write = e;
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-test-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('CLI conventions (issue 14 defect 5)', () => {
  it('--help and -h on the program and on every command (stdout, exit 0); --version', async () => {
    for (const argv of [['--help'], ['-h']]) {
      const r = await cli(argv);
      assert.equal(r.code, 0);
      assert.match(r.out, /^Usage: prune-at-init <command>/);
      for (const name of Object.keys(commands)) assert.match(r.out, new RegExp(`\\n  ${name} `));
    }
    for (const name of Object.keys(commands)) {
      for (const flag of ['--help', '-h']) {
        const r = await cli([name, flag]);
        assert.equal(r.code, 0, r.err);
        assert.match(r.out, new RegExp(`^Usage: prune-at-init ${name}`));
        for (const opt of Object.keys(commands[name].options)) assert.match(r.out, new RegExp(`--${opt}\\b`));
        assert.equal(r.err, '');
      }
    }
    const pkg = JSON.parse(fs.readFileSync(require.resolve('prune-at-init/package.json'), 'utf8'));
    const v = await cli(['--version']);
    assert.deepEqual([v.code, v.out], [0, `${pkg.version}\n`]);
    assert.equal(version(), pkg.version);
  });

  it('no command or an unknown one is a usage error (exit 2, stderr)', async () => {
    for (const argv of [[], ['prunes']]) {
      const r = await cli(argv);
      assert.equal(r.code, 2);
      assert.equal(r.out, '');
      assert.match(r.err, /Usage: prune-at-init <command>/);
    }
  });

  it('empty or missing values are usage errors, not defaults', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['eoc', '--activation', 'tanh', '--sigma-b'], /Option '--sigma-b <value>' argument missing/],
      [['eoc', '--activation', 'tanh', '--sigma-b=', '--rule', 'panels'], /--sigma-b needs a value, got an empty string/],
      [['eoc', '--sigma-b', '--activation', 'tanh'], /--sigma-b.*ambiguous/],
      [['eoc', '--sigma-b', '0.2'], /--activation .* is required/],
      [['prune', '--model', 'lenet300', '--method', 'random', '--sparsity=', '--out', path.join(tmp, 'never')], /--sparsity needs a value, got an empty string/],
      [['prune', '--model', 'lenet300', '--method', 'random', '--sparsity', '0.5', '--out='], /--out needs a value, got an empty string/],
      [['eoc', '--activation', 'tanh', 'extra'], /Unexpected argument 'extra'/],
    ];
    for (const [argv, re] of cases) {
      const r = await cli(argv);
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.err}`);
      assert.equal(r.out, '');
      assert.match(r.err, re);
    }
    assert.ok(!fs.existsSync(path.join(tmp, 'never')));
  });

  it('eoc: --nodes is refused without --rule hermite; a Gauss–Hermite answer off the panel rule is refused', async () => {
    const tanh = activationByName('tanh');
    let r = await cli(['eoc', '--activation', 'tanh', '--sigma-b', '0.2', '--nodes', '40']);
    assert.equal(r.code, 2);
    assert.match(r.err, /--nodes .* applies only with --rule hermite/);
    r = await cli(['eoc', '--activation', 'tanh', '--sigma-b', '0.2', '--rule', 'hermite', '--nodes', '1']);
    assert.equal(r.code, 2);
    assert.match(r.err, /--nodes must be an integer >= 2/);
    r = await cli(['eoc', '--activation', 'tanh', '--sigma-b', '0.2', '--rule', 'hermite', '--nodes', '5']);
    assert.equal(r.code, 2);
    assert.match(r.err, /--rule hermite with --nodes 5 gives sigma_w = .* relative to the panel rule's/);
    r = await cli(['eoc', '--activation', 'tanh', '--sigma-b', '0.2', '--rule', 'hermite', '--nodes', '80']);
    assert.equal(r.code, 0, r.err);
    // independent reference: the panel rule with its own defaults
    assert.ok(Math.abs(JSON.parse(r.out).sigmaW - eocSigmaW(tanh, 0.2).sigmaW) < 1e-9);
    r = await cli(['eoc', '--activation', 'tanh', '--chi-tol', '1e-3']);
    assert.equal(r.code, 2);
    assert.match(r.err, /--chi-tol applies only with --sigma-w/);
  });

  it('--model JSON is validated by the model schema: a missing or misspelt field names its path (issue 14 defect 8)', async () => {
    const base = ['prune', '--method', 'random', '--sparsity', '0.5', '--out', path.join(tmp, 'model-json')];
    let r = await cli([...base, '--model', '{"arch":"ffnn","activation":"relu"}']);
    assert.equal(r.code, 2);
    assert.match(r.err, /--model\.hidden: .*expected array.*\(got missing\)/);
    r = await cli([...base, '--model', '{"arch":"ffnn","hidden":[8],"activation":"relu","init":{"scheme":"eoc","sigma_b":0.5}}']);
    assert.equal(r.code, 2);
    assert.match(r.err, /--model\.init: unknown key 'sigma_b'; accepted keys: scheme, sigmaW, sigmaB, fan/);
    assert.ok(!fs.existsSync(path.join(tmp, 'model-json')));
  });
});

describe('CLI outputs are checked before computing (issue 14 defect 6)', () => {
  const args = (out: string, extra: string[] = []) => ['prune', '--model', 'ffnn_tanh_d2_w8', '--method', 'snip', '--sparsity', '0.5', '--out', out,
    '--train-limit', '100', '--per-class', '2', ...extra];
  // A data folder that does not exist: if the output were checked after loading the data, the error would be about the data.
  const noData = ['--data-dir', path.join(tmp, 'no-such-data')];
  const temps = (dir: string) => fs.readdirSync(dir).filter((f) => /tmp|probe/.test(f));

  it('--out that is a file, or unwritable, fails before the data is even loaded', async () => {
    const file = path.join(tmp, 'a-file');
    fs.writeFileSync(file, 'x');
    let r = await cli(args(file, noData));
    assert.equal(r.code, 2);
    assert.match(r.err, /--out .*a-file is a file, not a folder: choose a folder path/);
    const ro = path.join(tmp, 'read-only');
    fs.mkdirSync(ro);
    fs.chmodSync(ro, 0o555);
    const root = process.getuid?.() === 0;
    if (root) execFileSync('chattr', ['+i', ro]); // root ignores permission bits
    try {
      r = await cli(args(ro, noData));
      assert.equal(r.code, 2);
      assert.match(r.err, /--out .*read-only is not writable \((EACCES|EPERM|EROFS)\)/);
    } finally {
      if (root) execFileSync('chattr', ['-i', ro]);
      fs.chmodSync(ro, 0o755);
    }
  });

  it('a folder holding an earlier run is refused unless --force; --force replaces and removes stale files', async () => {
    const out = path.join(tmp, 'rerun');
    let r = await cli(args(out));
    assert.equal(r.code, 0, r.err);
    const first = fs.readFileSync(path.join(out, 'report.json'), 'utf8');
    r = await cli(args(out, noData));
    assert.equal(r.code, 2);
    assert.match(r.err, /already holds init\.safetensors, mask\.safetensors, scoring_batch\.safetensors, report\.json from an earlier run: .* pass --force/);
    assert.equal(fs.readFileSync(path.join(out, 'report.json'), 'utf8'), first); // untouched
    // --force with a data-free method: the earlier scoring batch must not stay behind looking like this run's
    r = await cli(['prune', '--model', 'ffnn_tanh_d2_w8', '--method', 'magnitude', '--sparsity', '0.5', '--out', out, '--force']);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(fs.readdirSync(out).sort(), ['init.safetensors', 'mask.safetensors', 'report.json']);
    assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')).method.name, 'magnitude');
  });

  it('a report.json that is a folder is refused up front and no temp file is left', async () => {
    const out = path.join(tmp, 'report-dir');
    fs.mkdirSync(path.join(out, 'report.json'), { recursive: true });
    const r = await cli(args(out, noData));
    assert.equal(r.code, 2);
    assert.match(r.err, /report-dir\/report\.json is in the way \(not a regular file\)/);
    assert.deepEqual(fs.readdirSync(out), ['report.json']);
    assert.deepEqual(temps(out), []);
  });

  it('writeFileAtomic onto a folder fails clearly and leaves no temp file', () => {
    const dir = path.join(tmp, 'atomic');
    fs.mkdirSync(path.join(dir, 'report.json'), { recursive: true });
    assert.throws(() => writeFileAtomic(path.join(dir, 'report.json'), '{}'), /Cannot write .*report\.json: a folder is in the way; move it away/);
    assert.deepEqual(fs.readdirSync(dir), ['report.json']);
  });

  it('negative seeds are accepted (--seed=-1) and differ from seed 1 (issue 14 defect 8)', async () => {
    const run = async (seed: string, dir: string) => {
      const r = await cli(['prune', '--model', 'ffnn_tanh_d2_w8', '--method', 'random', '--sparsity', '0.5', `--seed=${seed}`, '--out', path.join(tmp, dir)]);
      assert.equal(r.code, 0, r.err);
      return fs.readFileSync(path.join(tmp, dir, 'mask.safetensors'));
    };
    const neg = await run('-1', 'seed-neg'), pos = await run('1', 'seed-pos');
    assert.ok(!neg.equals(pos));
  });
});

describe('info on a corrupt dataset folder (issue 14 defect 8)', () => {
  it('reports it unavailable with the loader\'s error', async () => {
    const dir = path.join(tmp, 'corrupt-mnist');
    fs.mkdirSync(dir);
    for (const f of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) fs.writeFileSync(path.join(dir, f), 'not an idx file');
    const r = await cli(['info'], { PRUNE_AT_INIT_MNIST_DIR: dir });
    assert.equal(r.code, 0, r.err);
    const mnist = JSON.parse(r.out).datasets.find((d: { name: string }) => d.name === 'mnist');
    assert.equal(mnist.available, false);
    assert.match(mnist.error, /train-images-idx3-ubyte: .*not an IDX file/);
    const empty = await cli(['info'], { PRUNE_AT_INIT_MNIST_DIR: '' });
    const m2 = JSON.parse(empty.out).datasets.find((d: { name: string }) => d.name === 'mnist');
    assert.equal(m2.available, false);
    assert.match(m2.error, /PRUNE_AT_INIT_MNIST_DIR is set but empty/);
  });
});
