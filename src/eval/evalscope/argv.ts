import type { EvalScopeEvalSpec } from '../../plan/schema.js';
import type { Version } from '../../util/pep440.js';
import { shellQuote } from '../../util/shell-quote.js';
import type { Endpoint } from '../types.js';
import { evalscopeCli } from './rules.js';

/** vLLM started without --api-key accepts any key; EvalScope's own default is this word. */
const NO_KEY = 'EMPTY';

export interface EvalScopeCommand {
  /** The program, then its arguments: `evalscope`, or e.g. `python -m evalscope.cli.cli`. */
  file: string;
  args: string[];
}

export function executableParts(spec: Pick<EvalScopeEvalSpec, 'executable'>): [string, ...string[]] {
  const { executable } = spec;
  if (typeof executable === 'string') return [executable];
  const [file, ...rest] = executable;
  if (file === undefined) throw new Error('evalscope executable: an empty list');
  return [file, ...rest];
}

/**
 * `evalscope eval …` for this version, in the tutorial's order. The base URL ends in `/v1`: every version takes it
 * (the OpenAI client appends `/chat/completions`). `useCache`: the output folder of an earlier, interrupted run
 * whose answers are reused (rules.ts `USE_CACHE_RULE`); EvalScope then writes there instead of in `workDir`.
 */
export function renderEvalScopeCommand(
  spec: EvalScopeEvalSpec,
  version: Version,
  endpoint: Endpoint,
  workDir: string,
  useCache?: string,
): EvalScopeCommand {
  const cli = evalscopeCli(version);
  const [file, ...prefix] = executableParts(spec);
  const args = [
    ...prefix,
    'eval',
    '--model',
    endpoint.servedModel,
    '--api-url',
    endpoint.baseUrl,
    '--api-key',
    endpoint.apiKey ?? NO_KEY,
    '--eval-type',
    cli.evalType,
    '--eval-batch-size',
    String(spec.eval_batch_size),
    '--datasets',
    ...spec.datasets,
    '--work-dir',
    workDir,
  ];
  if (cli.noTimestamp) args.push('--no-timestamp');
  if (useCache !== undefined) args.push('--use-cache', useCache);
  if (spec.limit !== undefined) args.push('--limit', String(spec.limit));
  if (spec.generation_config) args.push('--generation-config', JSON.stringify(spec.generation_config));
  if (spec.dataset_args) args.push('--dataset-args', JSON.stringify(spec.dataset_args));
  args.push(...spec.extra_args);
  return { file, args };
}

/** The command as one line for people, the API key replaced (a key `EMPTY` hides nothing and stays). */
export function showEvalScopeCommand(command: EvalScopeCommand): string {
  const all = [command.file, ...command.args];
  return all
    .map((arg, index) => {
      if (all[index - 1] === '--api-key' && arg !== NO_KEY) return '***';
      return shellQuote(arg);
    })
    .join(' ');
}
