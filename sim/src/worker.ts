import { ProcessLog } from './log.js';
import { WORKER_RANK_ENV, readEngineInit } from './protocol.js';
import { rulesFor } from './versions.js';

// A tensor-parallel worker (`VLLM::Worker_TP<i>`), spawned by EngineCore for
// --tensor-parallel-size > 1. vLLM workers watch their parent through a death pipe; this one
// exits when its EngineCore's IPC channel closes.

const init = readEngineInit(process.env);
const rank = Number(process.env[WORKER_RANK_ENV] ?? 0);
const rules = rulesFor(init.version);
const log = ProcessLog.named(rules, rules.workerPrefixName(rank));

process.title = `VLLM::Worker_TP${rank}`;
setInterval(() => undefined, 1 << 30);
process.on('disconnect', () => process.exit(0));
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (!init.ignoreSigterm) process.exit(0);
  });
}

const world = init.tensorParallelSize * init.pipelineParallelSize;
log.info(
  ['parallel_state.py', 1208],
  `rank ${rank} in world size ${world} is assigned as DP rank 0, PP rank 0, TP rank ${rank}, EP rank ${rank}`,
);
process.send?.({ type: 'ready' });
