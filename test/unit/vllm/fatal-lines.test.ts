import { describe, expect, it } from 'vitest';
import { findFatalLine } from '../../../src/vllm/fatal-lines.js';

describe('fatal line', () => {
  it('prefers the last specific error over an earlier warning', () => {
    const fatal = findFatalLine([
      'WARNING 01-01 00:00:00 [utils.py:1] DeprecationError: something old',
      "ValueError: The model's max seq len (32768) is larger than the maximum number of tokens that can be stored in KV cache (7344).",
      'RuntimeError: Engine core initialization failed. See root cause above.',
    ]);
    expect(fatal?.line).toMatch(/^ValueError: The model's max seq len/);
  });

  it('advises lowering max_model_len when it exceeds the model, not raising memory', () => {
    const fatal = findFatalLine([
      'Value error, User-specified max_model_len (131072) is greater than the derived max_model_len (max_position_embeddings=32768.0 ...)',
    ]);
    expect(fatal?.hint).toMatch(/model's own context length/);
  });
});

describe('fatal line', () => {
  it('finds the root cause above the traceback, not the generic last line', () => {
    const log = [
      '(EngineCore_DP0 pid=1094) ERROR 04-05 01:12:55 [core.py:390] EngineCore failed to start.',
      '(EngineCore_DP0 pid=1094) Traceback (most recent call last):',
      '(EngineCore_DP0 pid=1094)   File "/usr/lib/python3/vllm/v1/engine/core.py", line 380, in run_engine_core',
      "(EngineCore_DP0 pid=1094) ValueError: To serve at least one request with the models's max seq len (262144), (24.0 GiB KV cache is needed, which is larger than the available KV cache memory (3.18 GiB).",
      '(APIServer pid=223598) RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}',
    ];
    const fatal = findFatalLine(log);
    expect(fatal?.line).toContain('ValueError: To serve at least one request');
    expect(fatal?.hint).toContain('max_model_len');
  });

  it('recognises the argparse rejection of a flag', () => {
    const fatal = findFatalLine([
      'usage: vllm [-h] [-v] {chat,complete,serve,bench,collect-env,run-batch} ...',
      'vllm: error: unrecognized arguments: --enable-reasoning',
    ]);
    expect(fatal?.line).toBe('vllm: error: unrecognized arguments: --enable-reasoning');
    expect(fatal?.hint).toContain('does not accept that flag');
  });

  it('falls back to the generic line when nothing better exists, and to nothing on a clean log', () => {
    expect(
      findFatalLine(['RuntimeError: Engine core initialization failed. See root cause above.'])?.line,
    ).toContain('Engine core');
    expect(findFatalLine(['INFO 01-01 00:00:00 [api_server.py:1] all good'])).toBeUndefined();
  });
});
