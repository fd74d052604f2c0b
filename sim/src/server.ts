import { type ChildProcess, spawn } from 'node:child_process';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ROUTES, createApiServer } from './api.js';
import type { ApiState } from './http.js';
import type { AnswerBook } from './answers.js';
import { type Command, describeArgs } from './cli.js';
import { Scheduler } from './engine.js';
import {
  engineInitFailedTraceback,
  maxModelLenTraceback,
  outputHandlerFailedTraceback,
  portInUseTraceback,
  terminatedDuringLoadTraceback,
} from './fatal.js';
import { HttpErrorInjector } from './faults.js';
import { memoryPlan } from './hardware.js';
import type { Knobs } from './knobs.js';
import { ProcessLog, type UvicornLevel } from './log.js';
import { MetricsRenderer } from './metrics.js';
import { ENGINE_INIT_ENV, type EngineInit, type FromEngine, type ToEngine } from './protocol.js';
import type { VersionRules } from './versions.js';

// The `vllm serve` API server process: start-up lines, the EngineCore child, the HTTP server
// once the engine is ready, and the ways it ends (signals, engine death, bind failure).

type ServeCommand = Extract<Command, { kind: 'serve' }>;
type Phase = 'loading' | 'serving' | 'stopping';

const SITES = {
  banner: ['api_server.py', 1839],
  args: ['utils.py', 233],
  argsLegacy: ['api_server.py', 1043],
  chunked: ['scheduler.py', 205],
  tasks: ['api_server.py', 1634],
  samplingDefaults: ['serving_chat.py', 139],
  starting: ['api_server.py', 1912],
  routesHeader: ['launcher.py', 34],
  route: ['launcher.py', 42],
  shutdown: ['launcher.py', 99],
  outputHandler: ['async_llm.py', 480],
  stats: ['loggers.py', 123],
} as const;

/** How long a dead engine's server keeps answering (503 on /health) before it shuts down; vLLM's watchdog polls every 5 s. */
const DEAD_GRACE_MS = 2000;
/** vLLM's default VLLM_LOG_STATS_INTERVAL. */
const STATS_INTERVAL_MS = 10_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Whether something already accepts connections on the port (a non-intrusive pre-bind check). */
function portTaken(host: string, port: number): Promise<boolean> {
  const target = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return new Promise((resolve) => {
    const socket = connect({ host: target, port, timeout: 500 });
    const done = (taken: boolean): void => {
      socket.destroy();
      resolve(taken);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

export class ApiServerProcess {
  private phase: Phase = 'loading';
  private engine: ChildProcess | null = null;
  private engineGone: Promise<void> = Promise.resolve();
  private http: Server | null = null;
  private state: ApiState | null = null;
  private completed = 0;
  private readonly startedAt = Date.now();
  private readonly log: ProcessLog;
  private readonly host: string;
  private readonly maxModelLen: number;
  private readonly servedNames: readonly string[];

  constructor(
    private readonly command: ServeCommand,
    private readonly knobs: Knobs,
    private readonly rules: VersionRules,
    private readonly book: AnswerBook,
  ) {
    const a = command.args;
    this.log = ProcessLog.named(rules, 'APIServer');
    this.log.setUvicornLevel(a.uvicornLogLevel as UvicornLevel);
    this.host = a.host ?? '0.0.0.0';
    this.maxModelLen = a.maxModelLen ?? knobs.maxPositionEmbeddings;
    this.servedNames = a.servedModelNames ?? [a.model];
  }

  async run(): Promise<void> {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => this.onSignal());
    const a = this.command.args;
    this.log.info(SITES.banner, `vLLM API server version ${this.rules.version}`);
    this.log.info(
      this.rules.logsNonDefaultArgs ? SITES.args : SITES.argsLegacy,
      describeArgs(this.command, this.rules),
    );
    // vLLM binds its socket before it builds the engine, so a taken port fails right here.
    if (this.knobs.faults.crashOnLoad === 'port_in_use' || (await portTaken(this.host, a.port))) {
      return this.fatal(portInUseTraceback());
    }
    const tooLong = this.maxModelLenError();
    if (tooLong) return this.fatal(tooLong);
    this.log.info(this.configSite(547), 'Resolved architecture: Qwen3ForCausalLM');
    this.log.info(this.configSite(1510), `Using max model len ${this.maxModelLen}`);
    this.log.info(SITES.chunked, 'Chunked prefill is enabled with max_num_batched_tokens=2048.');

    const ready = this.startEngine();
    await Promise.all([ready, sleep(this.startedAt + this.knobs.loadTimeS * 1000 - Date.now())]);
    if (this.phase === 'loading') this.serve();
  }

  /** A logging site in ModelConfig's module, which moved in 0.11. */
  private configSite(line: number): readonly [string, number] {
    return this.rules.configPackage ? ['model.py', line] : ['config.py', line];
  }

  /** vllm-versions §7: the traceback when --max-model-len exceeds the model's own limit, else null. */
  private maxModelLenError(): string | null {
    const requested = this.command.args.maxModelLen;
    const derived = this.knobs.maxPositionEmbeddings;
    if (requested === null || requested <= derived) return null;
    if (process.env.VLLM_ALLOW_LONG_MAX_MODEL_LEN === '1') {
      this.log.warning(
        this.configSite(1627),
        `User-specified max_model_len (${requested}) is greater than the derived max_model_len (max_position_embeddings=${derived}.0 or model_max_length=None in model's config.json). VLLM_ALLOW_LONG_MAX_MODEL_LEN must be used with extreme caution. If the model uses relative position encoding (RoPE), positions exceeding derived_max_model_len lead to nan. If the model uses absolute position encoding, positions exceeding derived_max_model_len will cause a CUDA array out-of-bounds error.`,
      );
      return null;
    }
    return maxModelLenTraceback(this.rules, requested, derived);
  }

  /** Spawns EngineCore; resolves when it reports ready. */
  private startEngine(): Promise<void> {
    const a = this.command.args;
    const crash = this.knobs.faults.crashOnLoad;
    const init: EngineInit = {
      version: this.rules.version,
      model: a.model,
      servedName: this.servedNames[0] ?? a.model,
      maxModelLen: this.maxModelLen,
      dtype: a.dtype,
      quantization: a.quantization,
      enforceEager: a.enforceEager,
      trustRemoteCode: a.trustRemoteCode,
      seed: a.seed,
      tensorParallelSize: a.tensorParallelSize,
      pipelineParallelSize: a.pipelineParallelSize,
      gpuMemoryUtilization: a.gpuMemoryUtilization,
      // The API server's own ready lines take the last few percent of the load time.
      readyAt: this.startedAt + this.knobs.loadTimeS * 970,
      crash: crash === 'port_in_use' ? null : crash,
      neverReady: this.knobs.faults.neverReady,
      ignoreSigterm: this.knobs.faults.ignoreSigterm,
    };
    // Same process group, not detached: a signal to the group reaches it, a SIGKILL of this
    // process leaves it running (as vLLM's EngineCore does).
    const engine = spawn(process.execPath, [fileURLToPath(new URL('./engine-core.js', import.meta.url))], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, [ENGINE_INIT_ENV]: JSON.stringify(init) },
    });
    this.engine = engine;
    this.engineGone = new Promise((resolve) => engine.once('exit', () => resolve()));
    engine.once('exit', () => this.onEngineExit());
    return new Promise((resolve) =>
      engine.on('message', (m: FromEngine) => {
        if (m.type === 'ready') resolve();
      }),
    );
  }

  private tellEngine(message: ToEngine): void {
    if (this.engine?.connected) this.engine.send(message);
  }

  /** Asks EngineCore to exit and waits for it (SIGKILL after `graceMs`). */
  private async stopEngine(graceMs: number): Promise<void> {
    const engine = this.engine;
    if (!engine || engine.exitCode !== null || engine.signalCode !== null) return;
    this.tellEngine({ type: 'shutdown' });
    const timer = setTimeout(() => engine.kill('SIGKILL'), graceMs);
    await this.engineGone;
    clearTimeout(timer);
  }

  private onEngineExit(): void {
    if (this.phase === 'loading') {
      // The engine logged its root cause above; this is the API server's traceback tail.
      this.phase = 'stopping';
      this.log.write('err', engineInitFailedTraceback(this.rules));
      process.exit(1);
    }
    if (this.phase === 'serving') this.engineDied();
  }

  private fatal(traceback: string): void {
    this.phase = 'stopping';
    this.log.write('err', traceback);
    void this.stopEngine(2000).then(() => process.exit(1));
  }

  private serve(): void {
    const a = this.command.args;
    const plan = memoryPlan({ ...a, maxModelLen: this.maxModelLen });
    const state: ApiState = {
      rules: this.rules,
      knobs: this.knobs,
      args: a,
      servedNames: this.servedNames,
      maxModelLen: this.maxModelLen,
      apiKey: a.apiKey ?? process.env.VLLM_API_KEY ?? null,
      parser: {
        // ≤0.8 used the parser only together with --enable-reasoning (vllm-versions §2.1).
        parser: this.rules.parserNeedsEnableFlag && !a.enableReasoning ? null : a.reasoningParser,
        deepseekNoTagsIsReasoning: this.rules.deepseekNoTagsIsReasoning,
      },
      log: this.log,
      scheduler: new Scheduler(a.maxNumSeqs, this.knobs.ttftMs, plan.kvTokens),
      book: this.book,
      metrics: new MetricsRenderer(this.rules, this.servedNames[0] ?? a.model),
      injector: new HttpErrorInjector(this.knobs.faults.httpErrors, this.knobs.seed),
      logRequests: this.rules.logsRequestsByDefault ? !a.disableLogRequests : a.enableLogRequests,
      engineDead: false,
      hung: false,
      chatRequests: 0,
      onChatCompleted: () => this.onChatCompleted(),
    };
    this.state = state;
    if (this.rules.apiServerIndexInStartLine) this.log.info(SITES.tasks, "Supported_tasks: ['generate']");
    if (a.generationConfig !== 'vllm') {
      this.log.warning(
        this.configSite(1371),
        "Default sampling parameters have been overridden by the model's Hugging Face generation config recommended from the model creator. If this is not intended, please relaunch vLLM instance with `--generation-config vllm`.",
      );
      this.log.info(
        SITES.samplingDefaults,
        "Using default chat sampling params from model: {'temperature': 0.6, 'top_k': 20, 'top_p': 0.95}",
      );
    }
    const index = this.rules.apiServerIndexInStartLine ? ' 0' : '';
    this.log.info(SITES.starting, `Starting vLLM API server${index} on http://${this.host}:${a.port}`);
    this.log.info(SITES.routesHeader, 'Available routes are:');
    for (const [path, methods] of ROUTES)
      this.log.info(SITES.route, `Route: ${path}, Methods: ${methods.join(', ')}`);

    const http = createApiServer(state);
    this.http = http;
    http.once('error', () => this.fatal(portInUseTraceback()));
    http.listen(a.port, this.host, () => {
      this.phase = 'serving';
      this.log.uvicorn('INFO', `Started server process [${process.pid}]`);
      this.log.uvicorn('INFO', 'Waiting for application startup.');
      this.log.uvicorn('INFO', 'Application startup complete.');
      this.startStatsLogger(state);
    });
  }

  /** V1's periodic throughput line; quiet while idle, as in recent releases. */
  private startStatsLogger(state: ApiState): void {
    let last = state.scheduler.stats();
    setInterval(() => {
      const now = state.scheduler.stats();
      const secs = STATS_INTERVAL_MS / 1000;
      const prompt = (now.promptTokens - last.promptTokens) / secs;
      const generation = (now.generationTokens - last.generationTokens) / secs;
      last = now;
      if (prompt === 0 && generation === 0 && now.running === 0 && now.waiting === 0) return;
      const engine = this.rules.statsEnginePrefix ? 'Engine 000: ' : '';
      this.log.info(
        SITES.stats,
        `${engine}Avg prompt throughput: ${prompt.toFixed(1)} tokens/s, Avg generation throughput: ${generation.toFixed(1)} tokens/s, Running: ${now.running} reqs, Waiting: ${now.waiting} reqs, GPU KV cache usage: ${(now.kvUsage * 100).toFixed(1)}%, Prefix cache hit rate: 0.0%`,
      );
    }, STATS_INTERVAL_MS).unref();
  }

  private onChatCompleted(): void {
    this.completed++;
    if (this.completed === this.knobs.faults.hangAfter && this.state) {
      // hang_after: the engine stops in its busy loop without dying; the API server waits on it forever.
      this.state.hung = true;
      this.state.scheduler.halt();
      return;
    }
    if (this.completed !== this.knobs.faults.crashAfter) return;
    // crash_after: the engine fails in its busy loop; its exit then reads as engine death.
    this.state?.scheduler.halt();
    this.tellEngine({ type: 'fail' });
  }

  private engineDied(): void {
    const state = this.state;
    if (!state || state.engineDead) return;
    state.engineDead = true;
    state.scheduler.halt();
    this.log.error(SITES.outputHandler, `AsyncLLM output_handler failed.\n${outputHandlerFailedTraceback()}`);
    state.scheduler.failAll();
    // vLLM's watchdog notices the dead engine and stops uvicorn; the process then exits 1.
    setTimeout(() => void this.shutdown(1, false), DEAD_GRACE_MS);
  }

  private onSignal(): void {
    if (this.knobs.faults.ignoreSigterm) return;
    if (this.phase === 'loading') void this.interruptLoad();
    else if (this.phase === 'serving') void this.shutdown(0, true);
  }

  /** vllm-versions §6.5: KeyboardInterrupt("terminated"), then the process dies of SIGINT. */
  private async interruptLoad(): Promise<void> {
    this.phase = 'stopping';
    this.log.write('err', terminatedDuringLoadTraceback());
    await this.stopEngine(2000);
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.removeAllListeners(signal);
    process.kill(process.pid, 'SIGINT');
  }

  /** vllm-versions §6.5: launcher line, uvicorn's shutdown lines, engine exit. */
  private async shutdown(code: number, signalled: boolean): Promise<void> {
    if (this.phase === 'stopping') return;
    this.phase = 'stopping';
    if (signalled) this.log.info(SITES.shutdown, 'Shutting down FastAPI HTTP server.');
    this.state?.scheduler.halt();
    this.http?.close();
    this.http?.closeAllConnections();
    this.log.uvicorn('INFO', 'Shutting down');
    this.log.uvicorn('INFO', 'Waiting for application shutdown.');
    this.log.uvicorn('INFO', 'Application shutdown complete.');
    await this.stopEngine(5000);
    process.exit(code);
  }
}
