import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  type EngineFailure,
  busyLoopFailure,
  cudaOomFailure,
  engineTraceback,
  freeMemoryFailure,
  kvCacheFailure,
  noKvMemoryFailure,
  processDump,
} from './fatal.js';
import { GPU_TOTAL_GIB, memoryPlan } from './hardware.js';
import { ProcessLog } from './log.js';
import {
  ENGINE_INIT_ENV,
  type FromEngine,
  type ToEngine,
  WORKER_RANK_ENV,
  readEngineInit,
} from './protocol.js';
import { rulesFor } from './versions.js';

// The stand-in for vLLM's EngineCore process. Like the real one it is a child of the API server
// in the same process group, names itself with setproctitle, logs the engine start-up, and keeps
// running when its parent is SIGKILLed (vLLM's busy loop does not watch the parent either).

const init = readEngineInit(process.env);
const rules = rulesFor(init.version);
const log = ProcessLog.named(rules, rules.engineCoreName);
const startedAt = Date.now();
const workers: ChildProcess[] = [];
let stopping = false;

process.title = 'VLLM::EngineCore';
// Keeps the event loop alive after the IPC channel closes (orphaned after a SIGKILL of the parent).
setInterval(() => undefined, 1 << 30);
process.on('disconnect', () => undefined);

const SITES = {
  core: ['core.py', 77],
  coreInit: ['core.py', 210],
  coreError: ['core.py', 708],
  frontEnd: ['core.py', 644],
  parallel: ['parallel_state.py', 1208],
  runner: ['gpu_model_runner.py', 2602],
  runnerScratch: ['gpu_model_runner.py', 2634],
  runnerLoaded: ['gpu_model_runner.py', 2653],
  runnerGraphs: ['gpu_model_runner.py', 3480],
  attention: ['cuda.py', 366],
  weights: ['default_loader.py', 267],
  compileCache: ['backends.py', 548],
  dynamo: ['backends.py', 559],
  monitor: ['monitor.py', 34],
  kvMemory: ['gpu_worker.py', 298],
  kvSize: ['kv_cache_utils.py', 1087],
  kvConcurrency: ['kv_cache_utils.py', 1091],
} as const;

/** --dtype as the engine config line prints it (`auto` is the model's bfloat16). */
const TORCH_DTYPES: Record<string, string> = {
  half: 'torch.float16',
  float16: 'torch.float16',
  float: 'torch.float32',
  float32: 'torch.float32',
};

const seconds = (since: number): string => ((Date.now() - since) / 1000).toFixed(2);
const thousands = (n: number): string => n.toLocaleString('en-US');

function sleepUntil(fraction: number): Promise<void> {
  const at = startedAt + fraction * Math.max(0, init.readyAt - startedAt);
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
}

function send(message: FromEngine): void {
  if (process.connected) process.send?.(message);
}

function exit(code: number): never {
  for (const w of workers) w.kill('SIGKILL');
  process.exit(code);
}

function die(failure: EngineFailure, during: 'startup' | 'busy-loop'): never {
  const headline =
    during === 'startup' ? 'EngineCore failed to start.' : 'EngineCore encountered a fatal error.';
  log.error(SITES.coreError, `${headline}\n${engineTraceback(failure, during)}`);
  log.write('err', processDump(rules.engineCoreName, failure, during));
  exit(1);
}

const clock = (ms: number): string => {
  const secs = Math.round(ms / 1000);
  return `${String(Math.floor(secs / 60)).padStart(2, '0')}:${String(secs % 60).padStart(2, '0')}`;
};

/**
 * tqdm progress lines on stderr, between two fractions of the load time: vLLM's weight loader
 * uses a `… Completed | n/N` bar format, CUDA graph capture tqdm's default bar.
 */
async function progress(
  label: string,
  total: number,
  from: number,
  to: number,
  style: 'completed' | 'bar',
  stopAfter?: number,
): Promise<void> {
  const steps = 4;
  const begin = Date.now();
  for (let s = 1; s <= steps; s++) {
    await sleepUntil(from + ((to - from) * s) / steps);
    if (stopping) return;
    const done = Math.round((total * s) / steps);
    const pct = Math.round((100 * done) / total);
    const elapsed = Date.now() - begin;
    const rate = (done / Math.max(elapsed / 1000, 0.001)).toFixed(2);
    const timing = `[${clock(elapsed)}<${clock((elapsed * (total - done)) / done)}, ${rate}it/s]`;
    const bar =
      style === 'completed' ? ' Completed |' : `|${'█'.repeat(Math.round((10 * done) / total)).padEnd(10)}|`;
    log.write('err', `${label}: ${String(pct).padStart(3)}%${bar} ${done}/${total} ${timing}`);
    if (stopAfter !== undefined && s >= stopAfter) return;
  }
}

/** Starts the TP workers; resolves once each has named itself and logged its rank. */
function spawnWorkers(): Promise<unknown> {
  const entry = fileURLToPath(new URL('./worker.js', import.meta.url));
  const started: Array<Promise<unknown>> = [];
  for (let rank = 0; rank < init.tensorParallelSize; rank++) {
    const worker = spawn(process.execPath, [entry], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, [ENGINE_INIT_ENV]: JSON.stringify(init), [WORKER_RANK_ENV]: String(rank) },
    });
    workers.push(worker);
    started.push(new Promise((resolve) => worker.once('message', resolve)));
  }
  return Promise.all(started);
}

async function load(): Promise<void> {
  const plan = memoryPlan(init);
  if (rules.processPrefixes) log.info(SITES.frontEnd, 'Waiting for init message from front-end.');
  log.info(
    SITES.core,
    `Initializing a V1 LLM engine (v${init.version}) with config: model='${init.model}', speculative_config=None, tokenizer='${init.model}', skip_tokenizer_init=False, tokenizer_mode=auto, revision=None, trust_remote_code=${init.trustRemoteCode ? 'True' : 'False'}, dtype=${TORCH_DTYPES[init.dtype] ?? 'torch.bfloat16'}, max_seq_len=${init.maxModelLen}, download_dir=None, load_format=auto, tensor_parallel_size=${init.tensorParallelSize}, pipeline_parallel_size=${init.pipelineParallelSize}, disable_custom_all_reduce=False, quantization=${init.quantization ?? 'None'}, enforce_eager=${init.enforceEager ? 'True' : 'False'}, kv_cache_dtype=auto, device_config=cuda, seed=${init.seed ?? 0}, served_model_name=${init.servedName}, enable_prefix_caching=True, chunked_prefill_enabled=True`,
  );
  // With tensor parallelism the rank lines come from the workers themselves.
  const workersUp = init.tensorParallelSize > 1 ? spawnWorkers() : Promise.resolve();
  if (init.tensorParallelSize === 1)
    log.info(
      SITES.parallel,
      'rank 0 in world size 1 is assigned as DP rank 0, PP rank 0, TP rank 0, EP rank 0',
    );

  await sleepUntil(0.05);
  if (stopping) return;
  if (init.crash === 'gpu_memory')
    die(freeMemoryFailure(rules, GPU_TOTAL_GIB * 0.42, GPU_TOTAL_GIB, init.gpuMemoryUtilization), 'startup');
  const loadStart = Date.now();
  log.info(SITES.runner, `Starting to load model ${init.model}...`);
  log.info(SITES.runnerScratch, 'Loading model from scratch...');
  log.info(SITES.attention, 'Using Flash Attention backend on V1 engine.');
  log.write('err', 'Loading safetensors checkpoint shards:   0% Completed | 0/5 [00:00<?, ?it/s]');
  await progress(
    'Loading safetensors checkpoint shards',
    5,
    0.05,
    0.4,
    'completed',
    init.crash === 'cuda_oom' ? 2 : undefined,
  );
  if (stopping) return;
  if (init.crash === 'cuda_oom') die(cudaOomFailure(GPU_TOTAL_GIB), 'startup');
  log.info(SITES.weights, `Loading weights took ${seconds(loadStart)} seconds`);
  log.info(
    SITES.runnerLoaded,
    `Model loading took ${plan.weightsGiB.toFixed(4)} GiB and ${((Date.now() - loadStart) / 1000).toFixed(6)} seconds`,
  );

  if (!init.enforceEager) {
    const compileStart = Date.now();
    log.info(
      SITES.compileCache,
      `Using cache directory: /root/.cache/vllm/torch_compile_cache/3c1a8e42b1/rank_0_0/backbone for vLLM's torch.compile`,
    );
    await sleepUntil(0.6);
    if (stopping) return;
    log.info(SITES.dynamo, `Dynamo bytecode transform time: ${seconds(compileStart)} s`);
    log.info(SITES.monitor, `torch.compile takes ${seconds(compileStart)} s in total`);
  }
  await sleepUntil(0.62);
  if (stopping) return;
  log.info(SITES.kvMemory, `Available KV cache memory: ${Math.max(0, plan.kvGiB).toFixed(2)} GiB`);
  if (plan.kvGiB <= 0) die(noKvMemoryFailure(), 'startup');
  if (init.crash === 'kv_cache' || plan.kvTokens < init.maxModelLen) {
    // The forced fault pretends another process holds most of the memory.
    const available = init.crash === 'kv_cache' ? Math.min(plan.kvGiB, plan.neededGiB / 4) : plan.kvGiB;
    const estimate = Math.floor((init.maxModelLen * available) / plan.neededGiB);
    die(kvCacheFailure(rules, init.maxModelLen, plan.neededGiB, available, estimate), 'startup');
  }
  log.info(SITES.kvSize, `GPU KV cache size: ${thousands(plan.kvTokens)} tokens`);
  log.info(
    SITES.kvConcurrency,
    `Maximum concurrency for ${thousands(init.maxModelLen)} tokens per request: ${plan.maxConcurrency.toFixed(2)}x`,
  );

  if (!init.enforceEager) {
    const graphStart = Date.now();
    const label = rules.modernResponseShape
      ? 'Capturing CUDA graphs (mixed prefill-decode, PIECEWISE)'
      : 'Capturing CUDA graph shapes';
    await progress(label, 67, 0.65, 0.93, 'bar', init.neverReady ? 1 : undefined);
    if (stopping || init.neverReady) return;
    log.info(
      SITES.runnerGraphs,
      `Graph capturing finished in ${Math.max(1, Math.round((Date.now() - graphStart) / 1000))} secs, took 0.62 GiB`,
    );
  } else if (init.neverReady) {
    return;
  }
  await sleepUntil(0.97);
  if (stopping) return;
  log.info(
    SITES.coreInit,
    `init engine (profile, create kv cache, warmup model) took ${seconds(startedAt)} seconds`,
  );
  await Promise.all([workersUp, sleepUntil(1)]);
  if (!stopping) send({ type: 'ready' });
}

process.on('message', (message: ToEngine) => {
  if (message.type === 'fail') die(busyLoopFailure(), 'busy-loop');
  stopping = true;
  exit(0);
});

// A signalled EngineCore leaves the talking to its API server, which gets the same signal when
// the whole group is signalled; alone (orphaned, or signalled by pid) it exits quietly.
const PARENT_GRACE_MS = 3000;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (init.ignoreSigterm) return;
    stopping = true;
    if (!process.connected) exit(0);
    setTimeout(() => exit(0), PARENT_GRACE_MS).unref();
  });
}

void load();
