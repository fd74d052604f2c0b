/** Why an EvalScope run failed, read from its log, with what to do about it. */
export interface EvalScopeFailure {
  reason: 'not-installed' | 'unknown-dataset' | 'connection-refused' | 'out-of-memory' | 'rejected-arguments';
  line: string;
  fix: string;
}

const PATTERNS: {
  reason: EvalScopeFailure['reason'];
  pattern: RegExp;
  fix: (match: RegExpMatchArray) => string;
}[] = [
  {
    reason: 'not-installed',
    pattern: /No module named '?evalscope/,
    fix: () =>
      "install EvalScope into that Python (pip install 'evalscope'), or point the eval's `executable` at the virtual environment that has it",
  },
  {
    reason: 'unknown-dataset',
    pattern: /Benchmark\s+'?([\w.-]+)'?\s+not found/i,
    fix: (match) =>
      `"${match[1] ?? ''}" is no benchmark of this EvalScope version: check the spelling in \`datasets\` (evalscope's benchmark list), or upgrade EvalScope`,
  },
  {
    reason: 'connection-refused',
    pattern: /Connection refused|APIConnectionError|ConnectionError/,
    fix: () => 'EvalScope could not reach the server: it stopped, or --api-url is not where it listens',
  },
  {
    reason: 'out-of-memory',
    pattern: /CUDA out of memory|OutOfMemoryError|MemoryError/,
    fix: () =>
      'EvalScope ran out of memory: lower eval_batch_size, or keep the GPU for vLLM (EvalScope needs none against a server)',
  },
  {
    reason: 'rejected-arguments',
    pattern: /error: (?:argument|unrecognized arguments)[^\n]*/,
    fix: () =>
      "the installed EvalScope rejected an argument: if the eval pins `version`, make it the installed one's; otherwise check extra_args",
  },
];

export function failureFromLog(log: string): EvalScopeFailure | undefined {
  const lines = log.split('\n');
  for (const { reason, pattern, fix } of PATTERNS) {
    // The last such line: a retried request logs its error more than once, the last is the one that ended the run.
    const line = lines.findLast((text) => pattern.test(text));
    const match = line?.match(pattern);
    if (line !== undefined && match) return { reason, line: line.trim(), fix: fix(match) };
  }
  return undefined;
}

export function notInstalledFailure(command: string): EvalScopeFailure {
  return {
    reason: 'not-installed',
    line: `${command}: command not found`,
    fix: "install EvalScope (pip install 'evalscope') or set the eval's `executable` (a virtual environment's bin/evalscope, or [python, -m, evalscope.cli.cli])",
  };
}

export class EvalScopeError extends Error {
  constructor(
    message: string,
    readonly failure?: EvalScopeFailure,
  ) {
    super(failure ? `${message}: ${failure.line}\n  fix: ${failure.fix}` : message);
    this.name = 'EvalScopeError';
  }
}
