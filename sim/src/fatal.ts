import {
  ENGINE_STARTUP,
  type Frame,
  SERVE_ENTRY,
  cython,
  formatTraceback,
  lib,
  std,
  vllm,
} from './pytrace.js';
import type { VersionRules } from './versions.js';

// The fatal texts the simulator prints ("vllm-versions §N" = docs/vllm-versions.md, section N). Root-cause
// wording follows the vLLM issues cited there (vllm-versions §2.1, §6.5, §7); the stack frames around it are
// plausible vLLM V1 frames written for the simulator.

// ---------------------------------------------------------------- API server (vllm serve) side

export function portInUseTraceback(): string {
  return formatTraceback(
    [
      ...SERVE_ENTRY,
      vllm(
        'entrypoints/openai/api_server.py',
        1426,
        'run_server',
        'listen_address, sock = setup_server(args)',
      ),
      vllm(
        'entrypoints/openai/api_server.py',
        1398,
        'setup_server',
        'sock = create_server_socket(sock_addr)',
      ),
      vllm('entrypoints/openai/api_server.py', 1355, 'create_server_socket', 'sock.bind(addr)'),
    ],
    'OSError: [Errno 98] Address already in use',
  );
}

/** SIGTERM before the server is up hits a handler that raises KeyboardInterrupt("terminated") (vllm-versions §6.5). */
export function terminatedDuringLoadTraceback(): string {
  return formatTraceback(
    [
      ...SERVE_ENTRY,
      ...ENGINE_STARTUP,
      vllm(
        'v1/engine/utils.py',
        742,
        'wait_for_engine_startup',
        'events = poller.poll(STARTUP_POLL_PERIOD_MS)',
      ),
      lib('zmq/sugar/poll.py', 106, 'poll', 'return zmq_poll(self.sockets, timeout=timeout)'),
      cython('_zmq.py', 1609, 'zmq.backend.cython._zmq.zmq_poll'),
      cython('_zmq.py', 169, 'zmq.backend.cython._zmq._check_rc'),
      vllm(
        'entrypoints/openai/api_server.py',
        1405,
        'signal_handler',
        'raise KeyboardInterrupt("terminated")',
      ),
    ],
    'KeyboardInterrupt: terminated',
  );
}

/** vllm-versions §7: the generic last line of a failed V1 start; the engine logged the root cause above it. */
export function engineInitFailedTraceback(rules: VersionRules): string {
  const suffix = rules.failedProcsSuffix ? ' Failed core proc(s): {}' : '';
  return formatTraceback(
    [
      ...SERVE_ENTRY,
      ...ENGINE_STARTUP,
      vllm(
        'v1/engine/utils.py',
        750,
        'wait_for_engine_startup',
        'raise RuntimeError("Engine core initialization failed. "',
      ),
    ],
    `RuntimeError: Engine core initialization failed. See root cause above.${suffix}`,
  );
}

/** vllm-versions §7: `--max-model-len` above what the model's config.json allows. */
export function maxModelLenTraceback(rules: VersionRules, requested: number, derived: number): string {
  const text = `User-specified max_model_len (${requested}) is greater than the derived max_model_len (max_position_embeddings=${derived}.0 or model_max_length=None in model's config.json). To allow overriding this maximum, set the env var VLLM_ALLOW_LONG_MAX_MODEL_LEN=1. VLLM_ALLOW_LONG_MAX_MODEL_LEN must be used with extreme caution.`;
  const frames: Frame[] = [
    ...SERVE_ENTRY,
    ...ENGINE_STARTUP.slice(0, 5),
    vllm(
      'entrypoints/openai/api_server.py',
      180,
      'build_async_engine_client_from_engine_args',
      'vllm_config = engine_args.create_engine_config(usage_context=usage_context)',
    ),
    vllm('engine/arg_utils.py', 1134, 'create_engine_config', 'model_config = self.create_model_config()'),
    vllm('engine/arg_utils.py', 1018, 'create_model_config', 'return ModelConfig('),
  ];
  if (!rules.pydanticConfigErrors) {
    return formatTraceback(
      [...frames, vllm('config.py', 598, '__init__', 'self.max_model_len = _get_and_verify_max_len(')],
      `ValueError: ${text}`,
    );
  }
  return formatTraceback(
    [
      ...frames,
      lib(
        'pydantic/_internal/_dataclasses.py',
        123,
        '__init__',
        's.__pydantic_validator__.validate_python(ArgsKwargs(args, kwargs), self_instance=s)',
      ),
    ],
    [
      'pydantic_core._pydantic_core.ValidationError: 1 validation error for ModelConfig',
      `  Value error, ${text} [type=value_error, input_value=ArgsKwargs((), {...}), input_type=ArgsKwargs]`,
      '    For further information visit https://errors.pydantic.dev/2.11/v/value_error',
    ].join('\n'),
  );
}

const VALIDATE_ARGS: readonly Frame[] = [
  { file: '/usr/local/bin/vllm', line: 10, fn: '<module>', code: 'sys.exit(main())' },
  vllm('entrypoints/cli/main.py', 52, 'main', 'cmds[args.subparser].validate(args)'),
  vllm('entrypoints/cli/serve.py', 64, 'validate', 'validate_parsed_serve_args(args)'),
];

/** vllm/entrypoints/openai/cli_args.py validate_parsed_serve_args (code search, several versions). */
export function invalidReasoningParserTraceback(rules: VersionRules, name: string): string {
  return formatTraceback(
    [
      ...VALIDATE_ARGS,
      vllm('entrypoints/openai/cli_args.py', 302, 'validate_parsed_serve_args', 'raise KeyError('),
    ],
    `KeyError: 'invalid reasoning parser: ${name} (chose from { ${rules.reasoningParsers.join(',')} })'`,
  );
}

/** vllm-versions §2.1: ≤0.8.x refused --enable-reasoning without a parser. */
export function enableReasoningNeedsParserTraceback(): string {
  return formatTraceback(
    [
      ...VALIDATE_ARGS,
      vllm(
        'entrypoints/openai/cli_args.py',
        296,
        'validate_parsed_serve_args',
        'raise TypeError("Error: --enable-reasoning requires "',
      ),
    ],
    'TypeError: Error: --enable-reasoning requires --reasoning-parser',
  );
}

export const ENGINE_DEAD_MESSAGE =
  'EngineCore encountered an issue. See stack trace (above) for the root cause.';

/** What AsyncLLM's output handler logs when the EngineCore process is gone. */
export function outputHandlerFailedTraceback(): string {
  return formatTraceback(
    [
      vllm('v1/engine/async_llm.py', 380, 'output_handler', 'outputs = await engine_core.get_output_async()'),
      vllm(
        'v1/engine/core_client.py',
        750,
        'get_output_async',
        'raise self._format_exception(outputs) from None',
      ),
    ],
    `vllm.v1.engine.exceptions.EngineDeadError: ${ENGINE_DEAD_MESSAGE}`,
  );
}

// ---------------------------------------------------------------- EngineCore side

export interface EngineFailure {
  /** Frames below run_engine_core. */
  readonly frames: readonly Frame[];
  /** The root-cause exception line(s). */
  readonly exception: string;
}

const CORE_INIT: readonly Frame[] = [
  vllm('v1/engine/core.py', 492, '__init__', 'super().__init__(vllm_config, executor_class, log_stats,'),
];

function executorRpc(method: 'init_device' | 'load_model'): Frame[] {
  return [
    ...CORE_INIT,
    vllm('v1/engine/core.py', 80, '__init__', 'self.model_executor = executor_class(vllm_config)'),
    vllm('executor/executor_base.py', 54, '__init__', 'self._init_executor()'),
    vllm('executor/uniproc_executor.py', 49, '_init_executor', `self.collective_rpc("${method}")`),
    vllm(
      'executor/uniproc_executor.py',
      58,
      'collective_rpc',
      'answer = run_method(self.driver_worker, method, args, kwargs)',
    ),
    vllm('utils/__init__.py', 2985, 'run_method', 'return func(*args, **kwargs)'),
  ];
}

/** vllm-versions §7 (pytorch issue #175666): memory already taken by another process. */
export function freeMemoryFailure(
  rules: VersionRules,
  freeGiB: number,
  totalGiB: number,
  util: number,
): EngineFailure {
  const device = rules.freeMemoryNamesDevice ? ' cuda:0' : '';
  return {
    frames: [
      ...executorRpc('init_device'),
      vllm('worker/worker_base.py', 604, 'init_device', 'self.worker.init_device()  # type: ignore'),
      vllm('v1/worker/gpu_worker.py', 166, 'init_device', 'raise ValueError('),
    ],
    exception: `ValueError: Free memory on device${device} (${freeGiB.toFixed(2)}/${totalGiB.toFixed(2)} GiB) on startup is less than desired GPU memory utilization (${util}, ${(totalGiB * util).toFixed(2)} GiB). Decrease GPU memory utilization or reduce GPU memory used by other processes.`,
  };
}

/** vllm-versions §7 (issue #14095): CUDA OOM while the weights are loaded. */
export function cudaOomFailure(totalGiB: number): EngineFailure {
  return {
    frames: [
      ...executorRpc('load_model'),
      vllm(
        'v1/worker/gpu_worker.py',
        201,
        'load_model',
        'self.model_runner.load_model(eep_scale_up=eep_scale_up)',
      ),
      vllm('v1/worker/gpu_model_runner.py', 1876, 'load_model', 'self.model = model_loader.load_model('),
      vllm(
        'model_executor/model_loader/base_loader.py',
        44,
        'load_model',
        'model = initialize_model(vllm_config=vllm_config,',
      ),
      vllm(
        'model_executor/model_loader/utils.py',
        63,
        'initialize_model',
        'return model_class(vllm_config=vllm_config, prefix=prefix)',
      ),
      lib('torch/utils/_device.py', 104, '__torch_function__', 'return func(*args, **kwargs)'),
    ],
    exception: `torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB. GPU 0 has a total capacity of ${totalGiB.toFixed(2)} GiB of which 3.31 MiB is free. Including non-PyTorch memory, this process has ${(totalGiB - 0.02).toFixed(2)} GiB memory in use. Of the allocated memory ${(totalGiB - 0.6).toFixed(2)} GiB is allocated by PyTorch, and 183.52 MiB is reserved by PyTorch but unallocated. If reserved but unallocated memory is large try setting PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation.  See documentation for Memory Management  (https://pytorch.org/docs/stable/notes/cuda.html#environment-variables)`,
  };
}

function kvCheck(line: number): Frame[] {
  return [
    ...CORE_INIT,
    vllm('v1/engine/core.py', 89, '__init__', 'self._initialize_kv_caches(vllm_config)'),
    vllm(
      'v1/engine/core.py',
      179,
      '_initialize_kv_caches',
      'kv_cache_configs = [get_kv_cache_config(vllm_config, kv_cache_spec_one_worker,',
    ),
    vllm(
      'v1/core/kv_cache_utils.py',
      1085,
      'get_kv_cache_config',
      'check_enough_kv_cache_memory(vllm_config, kv_cache_spec, available_memory)',
    ),
    vllm('v1/core/kv_cache_utils.py', line, 'check_enough_kv_cache_memory', 'raise ValueError('),
  ];
}

/** vllm-versions §7 (issues #16118, #34076): max_model_len does not fit the KV cache. */
export function kvCacheFailure(
  rules: VersionRules,
  maxModelLen: number,
  neededGiB: number,
  availableGiB: number,
  estimate: number,
): EngineFailure {
  const hint = rules.kvErrorEstimate
    ? ` Based on the available memory, the estimated maximum model length is ${estimate}.`
    : '';
  const docs = rules.kvErrorEstimate
    ? ' See https://docs.vllm.ai/en/latest/configuration/conserving_memory/ for more details.'
    : '';
  return {
    frames: kvCheck(686),
    exception: `ValueError: To serve at least one request with the models's max seq len (${maxModelLen}), (${neededGiB.toFixed(2)} GiB KV cache is needed, which is larger than the available KV cache memory (${availableGiB.toFixed(2)} GiB).${hint} Try increasing \`gpu_memory_utilization\` or decreasing \`max_model_len\` when initializing the engine.${docs}`,
  };
}

/** vllm-versions §7 (issues #10439, #27508). */
export function noKvMemoryFailure(): EngineFailure {
  return {
    frames: kvCheck(672),
    exception:
      'ValueError: No available memory for the cache blocks. Try increasing `gpu_memory_utilization` when initializing the engine.',
  };
}

/** A fault in the busy loop (crash_after): what EngineCore logs before it dies. */
export function busyLoopFailure(): EngineFailure {
  return {
    frames: [
      vllm('v1/engine/core.py', 728, 'run_busy_loop', 'self._process_engine_step()'),
      vllm('v1/engine/core.py', 754, '_process_engine_step', 'outputs, model_executed = self.step_fn()'),
      vllm('v1/engine/core.py', 284, 'step', 'model_output = self.execute_model_with_error_logging('),
      vllm('v1/engine/core.py', 270, 'execute_model_with_error_logging', 'raise err'),
      vllm(
        'v1/worker/gpu_model_runner.py',
        1850,
        'execute_model',
        'valid_sampled_token_ids = sampled_token_ids.tolist()',
      ),
    ],
    exception: [
      'RuntimeError: CUDA error: an illegal memory access was encountered',
      'CUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below might be incorrect.',
      'For debugging consider passing CUDA_LAUNCH_BLOCKING=1',
      'Compile with `TORCH_USE_CUDA_DSA` to enable device-side assertions.',
    ].join('\n'),
  };
}

function runEngineCoreFrame(during: 'startup' | 'busy-loop'): Frame {
  return during === 'startup'
    ? vllm('v1/engine/core.py', 691, 'run_engine_core', 'engine_core = EngineCoreProc(*args, **kwargs)')
    : vllm('v1/engine/core.py', 701, 'run_engine_core', 'engine_core.run_busy_loop()');
}

/** The traceback as run_engine_core's logger.exception shows it. */
export function engineTraceback(failure: EngineFailure, during: 'startup' | 'busy-loop'): string {
  return formatTraceback([runEngineCoreFrame(during), ...failure.frames], failure.exception);
}

/** What multiprocessing prints to stderr when the EngineCore process target re-raises. */
export function processDump(
  processName: string,
  failure: EngineFailure,
  during: 'startup' | 'busy-loop',
): string {
  const frames = [
    std('multiprocessing/process.py', 314, '_bootstrap', 'self.run()'),
    std('multiprocessing/process.py', 108, 'run', 'self._target(*self._args, **self._kwargs)'),
    vllm('v1/engine/core.py', 712, 'run_engine_core', 'raise e'),
    runEngineCoreFrame(during),
    ...failure.frames,
  ];
  return `Process ${processName}:\n${formatTraceback(frames, failure.exception)}`;
}
