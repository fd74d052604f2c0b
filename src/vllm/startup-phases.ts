/**
 * Start-up phases recognised in vLLM's log, for the progress display only: wording changes between versions,
 * so readiness never depends on these (see readiness.ts).
 */
export type StartupPhase =
  | 'launching'
  | 'loading weights'
  | 'profiling memory'
  | 'allocating KV cache'
  | 'capturing CUDA graphs'
  | 'starting API server'
  | 'up';

const RULES: [RegExp, StartupPhase][] = [
  [
    /Starting to load model|Loading (safetensors|weights|model weights)|Loading model from/i,
    'loading weights',
  ],
  [/Loading weights took|Model loading took|memory profiling|profile run/i, 'profiling memory'],
  [/KV cache size|# GPU blocks|Maximum concurrency for/i, 'allocating KV cache'],
  [/Capturing (CUDA )?graphs|CUDA graph/i, 'capturing CUDA graphs'],
  [
    /Starting vLLM (API )?server|Available routes are|Route: \/|Started server process/i,
    'starting API server',
  ],
  [/Application startup complete/i, 'up'],
];

export function startupPhaseOf(line: string): StartupPhase | undefined {
  return RULES.find(([pattern]) => pattern.test(line))?.[1];
}

/** Capacity facts worth showing and recording: the KV cache size and the maximum concurrency vLLM computed. */
export function capacityFact(line: string): { kvCacheTokens?: number; maxConcurrency?: number } | undefined {
  const kv = /GPU KV cache size:\s*([\d,]+)\s*tokens/.exec(line);
  if (kv?.[1]) return { kvCacheTokens: Number(kv[1].replace(/,/g, '')) };
  const concurrency = /Maximum concurrency for [\d,]+ tokens per request:\s*([\d.]+)x/.exec(line);
  if (concurrency?.[1]) return { maxConcurrency: Number(concurrency[1]) };
  return undefined;
}
