/**
 * Command-line options on Node's util.parseArgs (strict: unknown options, missing values and
 * positionals are usage errors). Each command declares its options once, with their help text;
 * the help, the parser and the converters below all read that declaration.
 */
import { parseArgs } from 'util';

/** A bad command line: exit code 2, message on stderr with a pointer to --help. */
export class UsageError extends Error {
  constructor(message: string) { super(message); this.name = 'UsageError'; }
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** Placeholder shown in the help, e.g. '<0..1)' or 'tanh|relu'. */
  value?: string;
  help: string;
  /** Shown as "(default X)"; the command applies it. */
  default?: string;
  required?: boolean;
  short?: string;
}
export type OptionSpecs = Record<string, OptionSpec>;
export type CliValues = Record<string, string | boolean | undefined>;

export interface Command {
  summary: string;
  /** One line of usage after the command name, e.g. '--activation <name> [options]'. */
  usage: string;
  options: OptionSpecs;
  /** Extra help paragraphs (what is written, exit codes specific to the command). */
  notes?: string;
  run?(values: CliValues): Promise<unknown>;
  /** A command with subcommands (sweep, results) parses its raw arguments itself and throws UsageError for a bad command line. */
  subcommands?(argv: string[]): Promise<unknown>;
}

const HELP: OptionSpec = { type: 'boolean', short: 'h', help: 'show this help and exit' };

/** Help text of one command, generated from its option declarations. */
export function commandHelp(prog: string, name: string, cmd: Command): string {
  const rows = Object.entries({ ...cmd.options, help: HELP }).map(([k, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${k}${o.type === 'string' ? ` ${o.value ?? '<value>'}` : ''}`;
    const tail = o.required ? ' (required)' : o.default !== undefined ? ` (default ${o.default})` : '';
    return `  ${flag.padEnd(34)} ${o.help}${tail}`;
  });
  return `Usage: ${prog} ${name} ${cmd.usage}\n\n${cmd.summary}\n\nOptions:\n${rows.join('\n')}\n${cmd.notes ? `\n${cmd.notes}\n` : ''}`;
}

/**
 * Parse a command's arguments. Returns null when --help was asked for. Throws UsageError for
 * unknown options, positionals, a missing value (`--sigma-b` last, or followed by another option)
 * and an empty value (`--sparsity=`), and for missing required options.
 */
export function parseCommand(cmd: Command, argv: string[]): CliValues | null {
  const options = Object.fromEntries(Object.entries({ ...cmd.options, help: HELP })
    .map(([k, o]) => [k, o.short ? { type: o.type, short: o.short } : { type: o.type }]));
  let values: CliValues;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as CliValues;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help) return null;
  for (const [k, v] of Object.entries(values)) {
    if (v === '') throw new UsageError(`--${k} needs a value, got an empty string${cmd.options[k]?.value ? ` (expected ${cmd.options[k].value})` : ''}.`);
  }
  for (const [k, o] of Object.entries(cmd.options)) {
    if (o.required && values[k] === undefined) throw new UsageError(`--${k} ${o.value ?? '<value>'} is required.`);
  }
  return values;
}

/** A string option (or its default). */
export function stringOpt(v: CliValues, name: string, fallback?: string): string | undefined {
  const x = v[name];
  return typeof x === 'string' ? x : fallback;
}

/** A number option: finite, optionally an integer and within [min, max]. */
export function numberOpt(v: CliValues, name: string, o: { fallback?: number; integer?: boolean; min?: number; max?: number } = {}): number | undefined {
  const s = v[name];
  if (typeof s !== 'string') return o.fallback;
  const x = Number(s);
  const range = `${o.integer ? 'an integer' : 'a number'}${o.min !== undefined ? ` >= ${o.min}` : ''}${o.max !== undefined ? ` and <= ${o.max}` : ''}`;
  if (s.trim() === '' || !Number.isFinite(x) || (o.integer && !Number.isInteger(x)) || (o.min !== undefined && x < o.min) || (o.max !== undefined && x > o.max)) {
    throw new UsageError(`--${name} must be ${range}, got '${s}'.`);
  }
  return x;
}

/** A string option restricted to `choices`. */
export function choiceOpt<T extends string>(v: CliValues, name: string, choices: readonly T[], fallback?: T): T | undefined {
  const s = v[name];
  if (typeof s !== 'string') return fallback;
  if (!(choices as readonly string[]).includes(s)) throw new UsageError(`--${name} must be ${choices.map((c) => `'${c}'`).join(' or ')}, got '${s}'.`);
  return s as T;
}
