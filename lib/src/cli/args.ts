/** Minimal `--key value` / `--flag` parser; values stay strings, commands convert and validate. */
export type CliArgs = Record<string, string | true>;

export function parseArgs(argv: string[]): CliArgs {
  const out: CliArgs = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`Unexpected argument '${a}': options look like --name value.`);
    const eq = a.indexOf('=');
    if (eq > 0) { out[a.slice(2, eq)] = a.slice(eq + 1); continue; }
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) out[a.slice(2)] = true;
    else { out[a.slice(2)] = next; i++; }
  }
  return out;
}

export function numberArg(args: CliArgs, name: string, fallback?: number): number {
  const v = args[name];
  if (v === undefined || v === true) {
    if (fallback === undefined) throw new Error(`--${name} <number> is required.`);
    return fallback;
  }
  const x = Number(v);
  if (!Number.isFinite(x)) throw new Error(`--${name} must be a number, got '${v}'.`);
  return x;
}

export function stringArg(args: CliArgs, name: string, fallback?: string): string {
  const v = args[name];
  if (v === undefined || v === true) {
    if (fallback === undefined) throw new Error(`--${name} <value> is required.`);
    return fallback;
  }
  return v;
}
