/**
 * vLLM prints the root cause of a failed start above a long traceback and a generic last line
 * ("Engine core initialization failed. See root cause above."). Find the root cause.
 */

const GENERIC = [
  /Engine core initialization failed/,
  /EngineCore failed to start/,
  /EngineDeadError/,
  /^\s*raise\b/,
  /Traceback \(most recent call last\)/,
  /^\s*File "/,
];

const CAUSE = [
  /\b[A-Z][A-Za-z]*(Error|Exception)\b\s*:/, // ValueError: ..., torch.OutOfMemoryError: ...
  /\berror:\s/, // argparse: "vllm: error: unrecognized arguments: ..."
  /\[Errno \d+\]/, // OSError / uvicorn bind errors
  /CUDA out of memory/,
  /\bValue error, /, // pydantic's wording of a config error (vLLM ≥ 0.10 validates its config with pydantic)
  /KeyboardInterrupt: terminated/,
  /command not found/,
];

/** Remedies for the failures people meet most, keyed by what the fatal line says. */
const HINTS: [RegExp, string][] = [
  [
    /unrecognized arguments?: (\S+)/,
    'this vLLM version does not accept that flag: remove it from server.extra_args, or pin server.vllm_version so evalrig renders flags for it',
  ],
  [
    /CUDA out of memory|OutOfMemoryError/,
    'the GPU ran out of memory: lower server.gpu_memory_utilization or max_model_len, or free the GPU (evalrig doctor lists what holds it)',
  ],
  [
    /greater than the derived max_model_len/,
    "max_model_len is above the model's own context length (config.json): lower server.max_model_len",
  ],
  [
    /KV cache|max seq len/,
    'the KV cache cannot hold one request of max_model_len tokens: lower server.max_model_len or raise gpu_memory_utilization',
  ],
  [
    /Free memory on device/,
    'other processes hold GPU memory: stop them (evalrig doctor names them) or lower gpu_memory_utilization',
  ],
  [
    /Errno 98|[Aa]ddress already in use/,
    'the port is taken: use server.port: auto or stop what listens there',
  ],
  [/command not found/, 'install vLLM or set server.executable'],
];

export interface FatalLine {
  line: string;
  hint?: string;
}

export function findFatalLine(lines: readonly string[]): FatalLine | undefined {
  const causes = lines.filter((line) => CAUSE.some((re) => re.test(line)));
  // The root cause is the last specific error: earlier ones in the tail are warnings the start survived.
  const specific = causes.findLast((line) => !GENERIC.some((re) => re.test(line)));
  const line = specific ?? causes.at(-1);
  if (!line) return undefined;
  const hint = HINTS.find(([re]) => re.test(line))?.[1];
  return hint ? { line: line.trim(), hint } : { line: line.trim() };
}
