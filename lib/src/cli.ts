/**
 * `prune-at-init <command> [options]`, following Node CLI conventions: `--help`/`-h` on the
 * program and on every command, `--version`; results as JSON on stdout, messages on stderr; exit
 * code 0 (success), 1 (failure while running) or 2 (usage: bad command line, nothing computed).
 * Each command lives in lib/src/cli/<name>.ts and declares its options once (cli/args.ts);
 * adding a command is one line in `commands`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Command, commandHelp, parseCommand, UsageError } from './cli/args';
import { OutputDirError } from './fsutil';
import { ConfigError } from './config/schema';
import { info } from './cli/info';
import { eoc } from './cli/eoc';
import { prune } from './cli/prune';
import * as sweep from './cli/sweep';
import * as results from './cli/results';

export type { Command } from './cli/args';

const PROG = 'prune-at-init';

export const commands: Record<string, Command> = {
  info,
  eoc,
  prune,
  sweep: { summary: sweep.summary, usage: sweep.usage, options: {}, subcommands: sweep.run },
  results: { summary: results.summary, usage: results.usage, options: {}, subcommands: results.run },
};

export function version(): string {
  return JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')).version as string;
}

function programHelp(): string {
  const list = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(8)} ${c.summary}`).join('\n');
  return `Usage: ${PROG} <command> [options]\n\nCommands:\n${list}\n\nOptions:\n  -h, --help     show this help (or '${PROG} <command> --help')\n` +
    `  -v, --version  print the version\n\nExit codes: 0 success, 1 failure while running, 2 bad command line (nothing computed).\n`;
}

const isUsage = (e: unknown) => e instanceof UsageError || e instanceof OutputDirError || e instanceof ConfigError;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h') { process.stdout.write(programHelp()); return 0; }
  if (name === '--version' || name === '-v') { process.stdout.write(`${version()}\n`); return 0; }
  const cmd = name !== undefined && Object.prototype.hasOwnProperty.call(commands, name) ? commands[name] : undefined;
  if (!cmd) {
    process.stderr.write(`${name === undefined ? 'No command given.' : `Unknown command '${name}'.`}\n${programHelp()}`);
    return 2;
  }
  try {
    let out: unknown;
    if (cmd.subcommands) {
      // Commands with subcommands parse their own arguments (util.parseArgs, per subcommand).
      if (rest.includes('--help') || rest.includes('-h')) { process.stdout.write(`Usage: ${cmd.usage}\n\n${cmd.summary}\n`); return 0; }
      out = await cmd.subcommands(rest);
    } else {
      const values = parseCommand(cmd, rest);
      if (values === null) { process.stdout.write(commandHelp(PROG, name, cmd)); return 0; }
      if (!cmd.run) throw new Error(`command '${name}' has neither run nor subcommands`);
      out = await cmd.run(values);
    }
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return 0;
  } catch (e) {
    const usage = isUsage(e);
    process.stderr.write(`${PROG} ${name}: ${(e as Error).message}\n${usage ? `Run '${PROG} ${name} --help' for the options.\n` : ''}`);
    return usage ? 2 : 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
