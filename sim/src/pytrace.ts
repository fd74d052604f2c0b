// Python traceback text, shaped like CPython 3.12 prints it, for the simulator's fatal paths.

const SITE_PACKAGES = '/usr/local/lib/python3.12/dist-packages';
const STDLIB = '/usr/lib/python3.12';

export interface Frame {
  readonly file: string;
  readonly line: number;
  readonly fn: string;
  /** The source line; Cython frames have none. */
  readonly code?: string;
}

export function vllm(rel: string, line: number, fn: string, code?: string): Frame {
  return { file: `${SITE_PACKAGES}/vllm/${rel}`, line, fn, code };
}

export function lib(rel: string, line: number, fn: string, code?: string): Frame {
  return { file: `${SITE_PACKAGES}/${rel}`, line, fn, code };
}

export function std(rel: string, line: number, fn: string, code?: string): Frame {
  return { file: `${STDLIB}/${rel}`, line, fn, code };
}

export function cython(file: string, line: number, fn: string): Frame {
  return { file, line, fn };
}

export function formatTraceback(frames: readonly Frame[], exception: string): string {
  const body = frames.map(
    (f) => `  File "${f.file}", line ${f.line}, in ${f.fn}${f.code ? `\n    ${f.code}` : ''}`,
  );
  return ['Traceback (most recent call last):', ...body, exception].join('\n');
}

/** `vllm serve …` down to the API server's run_server coroutine. */
export const SERVE_ENTRY: readonly Frame[] = [
  { file: '/usr/local/bin/vllm', line: 10, fn: '<module>', code: 'sys.exit(main())' },
  vllm('entrypoints/cli/main.py', 54, 'main', 'args.dispatch_function(args)'),
  vllm('entrypoints/cli/serve.py', 57, 'cmd', 'uvloop.run(run_server(args))'),
  lib('uvloop/__init__.py', 109, 'run', 'return __asyncio.run('),
  std('asyncio/runners.py', 195, 'run', 'return runner.run(main)'),
  std('asyncio/runners.py', 118, 'run', 'return self._loop.run_until_complete(task)'),
  cython('uvloop/loop.pyx', 1518, 'uvloop.loop.Loop.run_until_complete'),
  lib('uvloop/__init__.py', 61, 'wrapper', 'return await main'),
];

/** run_server down to the engine client waiting for EngineCore to report ready. */
export const ENGINE_STARTUP: readonly Frame[] = [
  vllm(
    'entrypoints/openai/api_server.py',
    1431,
    'run_server',
    'await run_server_worker(listen_address, sock, args, **uvicorn_kwargs)',
  ),
  vllm(
    'entrypoints/openai/api_server.py',
    1451,
    'run_server_worker',
    'async with build_async_engine_client(args, client_config) as engine_client:',
  ),
  std('contextlib.py', 210, '__aenter__', 'return await anext(self.gen)'),
  vllm(
    'entrypoints/openai/api_server.py',
    158,
    'build_async_engine_client',
    'async with build_async_engine_client_from_engine_args(',
  ),
  std('contextlib.py', 210, '__aenter__', 'return await anext(self.gen)'),
  vllm(
    'entrypoints/openai/api_server.py',
    194,
    'build_async_engine_client_from_engine_args',
    'async_llm = AsyncLLM.from_vllm_config(',
  ),
  vllm('v1/engine/async_llm.py', 163, 'from_vllm_config', 'return cls('),
  vllm(
    'v1/engine/async_llm.py',
    117,
    '__init__',
    'self.engine_core = EngineCoreClient.make_async_mp_client(',
  ),
  vllm('v1/engine/core_client.py', 98, 'make_async_mp_client', 'return AsyncMPClient(*client_args)'),
  vllm('v1/engine/core_client.py', 677, '__init__', 'super().__init__('),
  vllm('v1/engine/core_client.py', 408, '__init__', 'with launch_core_engines(vllm_config, executor_class,'),
  std('contextlib.py', 144, '__exit__', 'next(self.gen)'),
  vllm('v1/engine/utils.py', 697, 'launch_core_engines', 'wait_for_engine_startup('),
];
