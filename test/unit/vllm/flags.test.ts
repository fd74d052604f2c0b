import { describe, expect, it } from 'vitest';
import { parseVersion, type Version } from '../../../src/util/pep440.js';
import { normaliseFlagName, readFlagValue, renderVersionedServeFlags } from '../../../src/vllm/flags.js';

function v(text: string): Version {
  const version = parseVersion(text);
  if (!version) throw new Error(`test setup: ${text} is not a version`);
  return version;
}

describe('normaliseFlagName and readFlagValue', () => {
  it.each([
    ['--max_model_len', '--max-model-len'],
    ['--gpu_memory_utilization=0.8', '--gpu-memory-utilization=0.8'],
    ['--chat-template=/a_b/c_d.jinja', '--chat-template=/a_b/c_d.jinja'],
    ['--compilation_config.cudagraph_capture_sizes', '--compilation-config.cudagraph_capture_sizes'],
    ['-tp', '-tp'],
    ['some_value', 'some_value'],
    ['--', '--'],
  ])('%s → %s', (arg, expected) => {
    expect(normaliseFlagName(arg)).toBe(expected);
  });

  it('reads `--flag V` and `--flag=V`, the last one winning', () => {
    expect(readFlagValue(['--a', '1', '--b=2'], '--b')).toBe('2');
    expect(readFlagValue(['--a', '1', '--a=3'], '--a')).toBe('3');
    expect(readFlagValue(['--a'], '--b')).toBeUndefined();
  });
});

describe('renderVersionedServeFlags', () => {
  const extraArgs = ['--max_num_seqs', '64', '--enable_reasoning'];

  it('0.8.5: pairs --enable-reasoning with the parser and falls back from qwen3 to deepseek_r1', () => {
    const result = renderVersionedServeFlags({ reasoningParser: 'qwen3', extraArgs, version: v('0.8.5') });
    expect(result.reasoningFlags).toEqual(['--enable-reasoning', '--reasoning-parser', 'deepseek_r1']);
    expect(result.extraArgs).toEqual(['--max-num-seqs', '64']);
    expect(result.flags).toEqual([
      '--enable-reasoning',
      '--reasoning-parser',
      'deepseek_r1',
      '--max-num-seqs',
      '64',
    ]);
    expect(result.errors).toEqual([]);
    expect(result.notices).toEqual([expect.stringContaining('deepseek_r1')]);
  });

  it("0.9.2: keeps the user's deprecated --enable-reasoning with a notice", () => {
    const result = renderVersionedServeFlags({ reasoningParser: 'qwen3', extraArgs, version: v('0.9.2') });
    expect(result.flags).toEqual([
      '--enable-reasoning',
      '--reasoning-parser',
      'qwen3',
      '--max-num-seqs',
      '64',
    ]);
    expect(result.notices).toEqual([expect.stringMatching(/deprecated since 0\.9\.0/)]);
    expect(result.errors).toEqual([]);
  });

  it('0.9.2: adds no --enable-reasoning of its own', () => {
    const result = renderVersionedServeFlags({
      reasoningParser: 'qwen3',
      extraArgs: [],
      version: v('0.9.2'),
    });
    expect(result).toEqual({
      reasoningFlags: ['--reasoning-parser', 'qwen3'],
      extraArgs: [],
      flags: ['--reasoning-parser', 'qwen3'],
      notices: [],
      errors: [],
    });
  });

  it.each(['0.10.0', '0.11.0', '0.17.1'])('%s: drops --enable-reasoning, which vLLM would reject', (text) => {
    const result = renderVersionedServeFlags({ reasoningParser: 'qwen3', extraArgs, version: v(text) });
    expect(result.flags).toEqual(['--reasoning-parser', 'qwen3', '--max-num-seqs', '64']);
    expect(result.notices).toEqual([expect.stringContaining('unrecognized arguments: --enable-reasoning')]);
    expect(result.errors).toEqual([]);
  });

  it('unknown version: newest rules, and says so', () => {
    const result = renderVersionedServeFlags({ reasoningParser: 'qwen3', extraArgs: [], version: null });
    expect(result.flags).toEqual(['--reasoning-parser', 'qwen3']);
    expect(result.notices).toEqual([expect.stringContaining('Set server.vllm_version')]);
  });

  it('takes a parser given only in extra_args, in either spelling', () => {
    const result = renderVersionedServeFlags({
      extraArgs: ['--reasoning_parser=qwen3'],
      version: v('0.8.5'),
    });
    expect(result.flags).toEqual(['--enable-reasoning', '--reasoning-parser', 'deepseek_r1']);
  });

  it('refuses two different parsers', () => {
    const result = renderVersionedServeFlags({
      reasoningParser: 'qwen3',
      extraArgs: ['--reasoning-parser', 'deepseek_r1'],
      version: v('0.10.0'),
    });
    expect(result.errors).toEqual([expect.stringContaining('server.reasoning_parser is qwen3')]);
  });

  it('0.8.5: --enable-reasoning without a parser is an error naming the version and the fix', () => {
    const result = renderVersionedServeFlags({ extraArgs: ['--enable-reasoning'], version: v('0.8.5') });
    expect(result.errors).toEqual([expect.stringMatching(/vLLM 0\.8\.5: .*server\.reasoning_parser/)]);
  });

  it('passes everything else through in order', () => {
    const result = renderVersionedServeFlags({
      extraArgs: ['--dtype', 'bfloat16', '--enforce_eager'],
      version: v('0.17.1'),
    });
    expect(result).toMatchObject({
      reasoningFlags: [],
      extraArgs: ['--dtype', 'bfloat16', '--enforce-eager'],
      notices: [],
      errors: [],
    });
  });
});
