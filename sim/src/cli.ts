import { UVICORN_LEVEL_NAMES } from './log.js';
import { pyRepr, pyString } from './py.js';
import type { VersionRules } from './versions.js';

// `vllm serve MODEL [flags]` parsed the way vLLM's FlexibleArgumentParser (argparse) does it:
// `--flag value` and `--flag=value`, underscores read as dashes, unknown arguments reported by
// the top-level parser (`vllm: error: unrecognized arguments: …`, exit 2; vllm-versions §6.1 =
// docs/vllm-versions.md section 6.1), bad values by the `vllm serve` sub-parser.

export interface ServeArgs {
  readonly model: string;
  readonly host: string | null;
  readonly port: number;
  readonly servedModelNames: readonly string[] | null;
  readonly maxModelLen: number | null;
  readonly reasoningParser: string | null;
  readonly enableReasoning: boolean;
  readonly apiKey: string | null;
  readonly gpuMemoryUtilization: number;
  readonly tensorParallelSize: number;
  readonly pipelineParallelSize: number;
  readonly dataParallelSize: number;
  readonly dtype: string;
  readonly quantization: string | null;
  readonly enforceEager: boolean;
  readonly enablePrefixCaching: boolean | null;
  readonly generationConfig: string;
  readonly seed: number | null;
  readonly maxNumSeqs: number;
  readonly trustRemoteCode: boolean;
  readonly disableLogRequests: boolean;
  readonly enableLogRequests: boolean;
  readonly uvicornLogLevel: string;
}

type Value = string | number | boolean | null | readonly string[];

type Kind =
  | { readonly type: 'str' | 'int' | 'float' | 'names' }
  | { readonly type: 'choice'; readonly choices: readonly string[] }
  | { readonly type: 'flag'; readonly sets: boolean };

interface Flag {
  readonly dest: keyof ServeArgs;
  readonly names: readonly string[];
  readonly kind: Kind;
  readonly fallback: Value;
  /** Present only in releases this predicate accepts. */
  readonly in?: (rules: VersionRules) => boolean;
}

const str = { type: 'str' } as const;
const int = { type: 'int' } as const;
const float = { type: 'float' } as const;
const on = { type: 'flag', sets: true } as const;

// Order follows vLLM's own parser, which is also the order of the `non-default args` dict.
const FLAGS: readonly Flag[] = [
  { dest: 'host', names: ['--host'], kind: str, fallback: null },
  { dest: 'port', names: ['--port'], kind: int, fallback: 8000 },
  {
    dest: 'uvicornLogLevel',
    names: ['--uvicorn-log-level'],
    kind: { type: 'choice', choices: UVICORN_LEVEL_NAMES },
    fallback: 'info',
  },
  { dest: 'apiKey', names: ['--api-key'], kind: str, fallback: null },
  {
    dest: 'enableReasoning',
    names: ['--enable-reasoning'],
    kind: on,
    fallback: false,
    in: (r) => r.enableReasoning !== 'removed', // vllm-versions §2.1
  },
  { dest: 'reasoningParser', names: ['--reasoning-parser'], kind: str, fallback: null },
  { dest: 'trustRemoteCode', names: ['--trust-remote-code'], kind: on, fallback: false },
  {
    dest: 'dtype',
    names: ['--dtype'],
    kind: { type: 'choice', choices: ['auto', 'half', 'float16', 'bfloat16', 'float', 'float32'] },
    fallback: 'auto',
  },
  { dest: 'seed', names: ['--seed'], kind: int, fallback: null },
  { dest: 'maxModelLen', names: ['--max-model-len'], kind: int, fallback: null },
  { dest: 'pipelineParallelSize', names: ['--pipeline-parallel-size', '-pp'], kind: int, fallback: 1 },
  { dest: 'tensorParallelSize', names: ['--tensor-parallel-size', '-tp'], kind: int, fallback: 1 },
  { dest: 'dataParallelSize', names: ['--data-parallel-size', '-dp'], kind: int, fallback: 1 },
  { dest: 'gpuMemoryUtilization', names: ['--gpu-memory-utilization'], kind: float, fallback: 0.9 },
  { dest: 'enablePrefixCaching', names: ['--enable-prefix-caching'], kind: on, fallback: null },
  {
    dest: 'enablePrefixCaching',
    names: ['--no-enable-prefix-caching'],
    kind: { type: 'flag', sets: false },
    fallback: null,
  },
  { dest: 'maxNumSeqs', names: ['--max-num-seqs'], kind: int, fallback: 256 },
  { dest: 'quantization', names: ['--quantization', '-q'], kind: str, fallback: null },
  { dest: 'enforceEager', names: ['--enforce-eager'], kind: on, fallback: false },
  { dest: 'servedModelNames', names: ['--served-model-name'], kind: { type: 'names' }, fallback: null },
  { dest: 'generationConfig', names: ['--generation-config'], kind: str, fallback: 'auto' },
  { dest: 'disableLogRequests', names: ['--disable-log-requests'], kind: on, fallback: false },
  // 0.10.2 turned request logging off by default and added the opt-in flag.
  {
    dest: 'enableLogRequests',
    names: ['--enable-log-requests'],
    kind: on,
    fallback: false,
    in: (r) => !r.logsRequestsByDefault,
  },
];

export type Command =
  | { readonly kind: 'serve'; readonly args: ServeArgs; readonly given: ReadonlyMap<keyof ServeArgs, Value> }
  | { readonly kind: 'exit'; readonly code: number; readonly stdout?: string; readonly stderr?: string };

const SUBCOMMANDS = ['chat', 'complete', 'serve', 'bench', 'collect-env', 'run-batch'];
const TOP_USAGE = `usage: vllm [-h] [-v] {${SUBCOMMANDS.join(',')}} ...`;
const SERVE_USAGE = 'usage: vllm serve [model_tag] [options]';

function topHelp(): string {
  return `${TOP_USAGE}

vLLM CLI (simulated by evalrig's vllm-sim)

positional arguments:
  {${SUBCOMMANDS.join(',')}}
    serve               Start the vLLM OpenAI Compatible API server.

options:
  -h, --help            show this help message and exit
  -v, --version         show program's version number and exit
`;
}

function serveHelp(rules: VersionRules): string {
  const lines = FLAGS.filter((f) => !f.in || f.in(rules)).map((f) => {
    const meta =
      f.kind.type === 'flag'
        ? ''
        : f.kind.type === 'names'
          ? ' NAME [NAME ...]'
          : ` ${f.dest.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
    return `  ${f.names.join(', ')}${meta}`;
  });
  return `${SERVE_USAGE}

Start the vLLM OpenAI Compatible API server (simulated).

positional arguments:
  model_tag             The model tag to serve

options:
  -h, --help            show this help message and exit
${lines.join('\n')}
`;
}

const fail = (usage: string, prog: string, message: string): Command => ({
  kind: 'exit',
  code: 2,
  stderr: `${usage}\n${prog}: error: ${message}\n`,
});

/** FlexibleArgumentParser: `--max_model_len=8192` → `--max-model-len=8192`. */
function normalize(token: string): string {
  if (!token.startsWith('--')) return token;
  const eq = token.indexOf('=');
  return eq < 0 ? token.replace(/_/g, '-') : token.slice(0, eq).replace(/_/g, '-') + token.slice(eq);
}

function looksLikeFlag(token: string): boolean {
  return token.startsWith('-') && token !== '-' && !/^-\d/.test(token);
}

function convert(flag: Flag, name: string, raw: string): Value | Error {
  const kind = flag.kind;
  switch (kind.type) {
    case 'int':
      return /^[-+]?\d+$/.test(raw.trim())
        ? Number(raw)
        : new Error(`argument ${name}: invalid int value: '${raw}'`);
    case 'float':
      return raw.trim() !== '' && Number.isFinite(Number(raw))
        ? Number(raw)
        : new Error(`argument ${name}: invalid float value: '${raw}'`);
    case 'choice':
      return kind.choices.includes(raw)
        ? raw
        : new Error(
            `argument ${name}: invalid choice: '${raw}' (choose from ${kind.choices.map((c) => `'${c}'`).join(', ')})`,
          );
    default:
      return raw;
  }
}

export function parseCommandLine(argv: readonly string[], rules: VersionRules): Command {
  const extras: string[] = [];
  let i = 0;
  // Top-level parser: -h, -v, then the sub-command.
  for (; i < argv.length; i++) {
    const token = argv[i] ?? '';
    if (token === '-h' || token === '--help') return { kind: 'exit', code: 0, stdout: topHelp() };
    if (token === '-v' || token === '--version')
      return { kind: 'exit', code: 0, stdout: `${rules.version}\n` };
    if (!looksLikeFlag(token)) break;
    extras.push(token);
  }
  const sub = argv[i];
  if (sub === undefined) return { kind: 'exit', code: 1, stdout: topHelp() };
  if (sub !== 'serve') {
    const message = SUBCOMMANDS.includes(sub)
      ? `the '${sub}' sub-command is not simulated; only 'serve' is`
      : `argument subparser: invalid choice: '${sub}' (choose from ${SUBCOMMANDS.map((c) => `'${c}'`).join(', ')})`;
    return fail(TOP_USAGE, 'vllm', message);
  }

  const byName = new Map<string, Flag>();
  for (const flag of FLAGS)
    if (!flag.in || flag.in(rules)) for (const name of flag.names) byName.set(name, flag);
  const given = new Map<keyof ServeArgs, Value>();
  const positionals: string[] = [];
  const rest = argv.slice(i + 1).map(normalize);
  const serveFail = (message: string): Command => fail(SERVE_USAGE, 'vllm serve', message);

  for (let j = 0; j < rest.length; j++) {
    const token = rest[j] ?? '';
    if (token === '--') {
      positionals.push(...rest.slice(j + 1));
      break;
    }
    if (!looksLikeFlag(token)) {
      positionals.push(token);
      continue;
    }
    if (token === '-h' || token === '--help') return { kind: 'exit', code: 0, stdout: serveHelp(rules) };
    const eq = token.indexOf('=');
    const name = eq < 0 ? token : token.slice(0, eq);
    const inline = eq < 0 ? undefined : token.slice(eq + 1);
    const flag = byName.get(name);
    if (!flag) {
      extras.push(token);
      continue;
    }
    const kind = flag.kind;
    if (kind.type === 'flag') {
      if (inline !== undefined) return serveFail(`argument ${name}: ignored explicit argument '${inline}'`);
      given.set(flag.dest, kind.sets);
      continue;
    }
    if (kind.type === 'names') {
      const names = inline !== undefined ? [inline] : [];
      while (inline === undefined && j + 1 < rest.length && !looksLikeFlag(rest[j + 1] ?? ''))
        names.push(rest[++j] ?? '');
      if (names.length === 0) return serveFail(`argument ${name}: expected at least one argument`);
      given.set(flag.dest, names);
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      const next = rest[j + 1];
      if (next === undefined || looksLikeFlag(next))
        return serveFail(`argument ${name}: expected one argument`);
      raw = next;
      j++;
    }
    const value = convert(flag, name, raw);
    if (value instanceof Error) return serveFail(value.message);
    given.set(flag.dest, value);
  }

  const [model, ...surplus] = positionals;
  if (model === undefined) return serveFail('the following arguments are required: model_tag');
  extras.push(...surplus);
  if (extras.length > 0) return fail(TOP_USAGE, 'vllm', `unrecognized arguments: ${extras.join(' ')}`);

  const args: Record<string, Value> = { model };
  for (const flag of FLAGS) if (!(flag.dest in args)) args[flag.dest] = given.get(flag.dest) ?? flag.fallback;
  // Every ServeArgs key is a FLAGS dest (or `model`), each converted to its declared kind above.
  return { kind: 'serve', args: args as unknown as ServeArgs, given };
}

// ---------------------------------------------------------------- logging the arguments

function snake(dest: string): string {
  return dest.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

const PY_DEST: Partial<Record<keyof ServeArgs, string>> = { servedModelNames: 'served_model_name' };

/** `non-default args: {...}` (≥0.9) or the whole `args: Namespace(...)` (≤0.8). */
export function describeArgs(command: Extract<Command, { kind: 'serve' }>, rules: VersionRules): string {
  const name = (dest: keyof ServeArgs): string => PY_DEST[dest] ?? snake(dest);
  if (rules.logsNonDefaultArgs) {
    const items = [`'model_tag': ${pyString(command.args.model)}`];
    for (const [dest, value] of command.given) items.push(`'${name(dest)}': ${pyRepr(value)}`);
    items.push(`'model': ${pyString(command.args.model)}`);
    return `non-default args: {${items.join(', ')}}`;
  }
  const fields = [`subparser='serve'`, `model_tag=${pyString(command.args.model)}`, `config=''`];
  const seen = new Set<string>();
  for (const flag of FLAGS) {
    if (seen.has(flag.dest) || (flag.in && !flag.in(rules))) continue;
    seen.add(flag.dest);
    fields.push(`${name(flag.dest)}=${pyRepr(command.args[flag.dest] as Value)}`);
  }
  fields.push(
    `model=${pyString(command.args.model)}`,
    'dispatch_function=<function ServeSubcommand.cmd at 0x7f3c2a5e1d80>',
  );
  return `args: Namespace(${fields.join(', ')})`;
}
