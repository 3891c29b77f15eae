#!/usr/bin/env node
/**
 * `prune-at-init <command> [--flag value ...]`. Each command lives in lib/src/cli/<name>.ts and
 * exports `run(args): Promise<unknown>`; its JSON result is printed on stdout.
 */
import { parseArgs, CliArgs } from './cli/args';
import * as info from './cli/info';
import * as eoc from './cli/eoc';
import * as prune from './cli/prune';
import * as sweep from './cli/sweep';
import * as results from './cli/results';

export interface Command {
  summary: string;
  usage: string;
  /** `argv`: the raw arguments after the command name (commands with subcommands parse them). */
  run(args: CliArgs, argv: string[]): Promise<unknown>;
  /** True: skip the shared --flag parser, the command parses `argv` itself. */
  ownArgs?: boolean;
}

export const commands: Record<string, Command> = {
  info,
  eoc,
  prune,
  sweep: { ...sweep, ownArgs: true },
  results: { ...results, ownArgs: true },
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const cmd = name ? commands[name] : undefined;
  if (!cmd) {
    const list = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(8)} ${c.summary}`).join('\n');
    process.stderr.write(`${name && name !== '--help' ? `Unknown command '${name}'.\n` : ''}Usage: prune-at-init <command> [options]\n${list}\n`);
    return name && name !== '--help' ? 2 : 0;
  }
  try {
    const out = await cmd.run(cmd.ownArgs ? {} : parseArgs(rest), rest);
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return 0;
  } catch (e) {
    process.stderr.write(`prune-at-init ${name}: ${(e as Error).message}\nUsage: ${cmd.usage}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
