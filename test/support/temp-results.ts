import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * Mocha hooks for the enclosing describe: the results root (PRUNE_AT_INIT_RESULTS) is a fresh temp
 * folder while its tests run, restored and removed after. Returns a getter of the folder.
 */
export function useTempResults(prefix: string): () => string {
  let dir = '';
  let saved: string | undefined;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    saved = process.env.PRUNE_AT_INIT_RESULTS;
    process.env.PRUNE_AT_INIT_RESULTS = dir;
  });
  after(() => {
    if (saved === undefined) delete process.env.PRUNE_AT_INIT_RESULTS; else process.env.PRUNE_AT_INIT_RESULTS = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return () => dir;
}
