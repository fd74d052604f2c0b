import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareVersions, parseVersion, type Version } from '../../src/util/pep440.js';
import { detectVllmVersion } from '../../src/vllm/detect.js';
import {
  enableReasoningRequired,
  reasoningFields,
  reasoningParserFor,
  supportsEnableReasoning,
} from '../../src/vllm/rules.js';
import { normaliseFlagName, readFlagValue, renderVersionedServeFlags } from '../../src/vllm/flags.js';
import { PlanSchema } from '../../src/plan/schema.js';

function v(text: string): Version {
  const version = parseVersion(text);
  if (!version) throw new Error(`test setup: ${text} is not a version`);
  return version;
}

describe('parseVersion', () => {
  it.each([
    ['0.8.5', [0, 8, 5]],
    ['0.8.5.post1', [0, 8, 5]],
    ['0.10.2.dev378+g4d7fe40fc.d20250829', [0, 10, 2]],
    ['0.11.0rc1', [0, 11, 0]],
    ['0.10.1+gptoss', [0, 10, 1]],
    ['v0.9.2', [0, 9, 2]],
    ['0.9', [0, 9, 0]],
  ])('reads %s', (text, [major, minor, patch]) => {
    expect(parseVersion(`${text}\n`)).toEqual({ major, minor, patch, raw: text });
  });

  it.each([
    ['0.10.1.1', [0, 10, 1], [1]],
    ['v0.10.1.1', [0, 10, 1], [1]],
    ['0.10.1.1.post2', [0, 10, 1], [1]],
    ['0.10.1.1rc1', [0, 10, 1], [1]],
    ['0.10.1.1.dev12+g1234abc', [0, 10, 1], [1]],
    ['1.2.3.4.5', [1, 2, 3], [4, 5]],
  ])('reads the release segments after the patch in %s', (text, [major, minor, patch], more) => {
    expect(parseVersion(text)).toEqual({ major, minor, patch, more, raw: text });
  });

  it('reads 0.10.1.1 (a real release) from `vllm --version` after log lines', () => {
    expect(
      parseVersion('INFO 08-20 10:00:00 [__init__.py:241] Automatically detected platform cuda.\n0.10.1.1\n'),
    ).toEqual({
      major: 0,
      minor: 10,
      patch: 1,
      more: [1],
      raw: '0.10.1.1',
    });
  });

  it('takes the last version line after the log lines `import vllm` prints', () => {
    const output = [
      'INFO 04-16 21:06:25 [__init__.py:243] No platform detected, vLLM is running on UnspecifiedPlatform',
      'INFO 04-16 21:06:26 [__init__.py:239] Automatically detected platform cuda.',
      '0.8.5.post1',
      '',
    ].join('\n');
    expect(parseVersion(output)?.raw).toBe('0.8.5.post1');
  });

  it.each([
    '',
    'vllm: command not found',
    'INFO 04-30 06:47:04 [api_server.py:1042] vLLM API server version 0.8.5',
    '0.8.5 extra',
    '0.10.1.1.',
    '0.10..1',
    '0.10.1.x',
  ])('finds no version in %j', (text) => {
    expect(parseVersion(text)).toBeNull();
  });

  it('compares by release, ignoring suffixes', () => {
    expect(compareVersions(v('0.8.5'), v('0.9.2'))).toBeLessThan(0);
    expect(compareVersions(v('0.10.0'), v('0.9.2'))).toBeGreaterThan(0);
    expect(compareVersions(v('0.8.5.post1'), v('0.8.5'))).toBe(0);
  });

  it('compares every release segment: 0.10.1 < 0.10.1.1 < 0.10.2, and 0.10.1.0 is 0.10.1', () => {
    expect(compareVersions(v('0.10.1'), v('0.10.1.1'))).toBeLessThan(0);
    expect(compareVersions(v('0.10.1.1'), v('0.10.1'))).toBeGreaterThan(0);
    expect(compareVersions(v('0.10.1.1'), v('0.10.2'))).toBeLessThan(0);
    expect(compareVersions(v('0.10.1.1'), v('0.10.1.1.post1'))).toBe(0);
    expect(compareVersions(v('0.10.1.0'), v('0.10.1'))).toBe(0);
    // A hand-written version without `more` compares like a parsed one.
    expect(compareVersions({ major: 0, minor: 10, patch: 1, raw: '0.10.1' }, v('0.10.1.1'))).toBeLessThan(0);
  });

  it('0.10.1.1 gets the rules of 0.10.1: no --enable-reasoning, qwen3, reasoning_content', () => {
    const version = v('0.10.1.1');
    expect(supportsEnableReasoning(version)).toBe(false);
    expect(reasoningParserFor('qwen3', version)).toEqual({ parser: 'qwen3' });
    expect(reasoningFields(version)).toEqual(['reasoning_content']);
    expect(renderVersionedServeFlags({ reasoningParser: 'qwen3', extraArgs: [], version }).notices).toEqual(
      [],
    );
  });
});

describe('version rules', () => {
  // [version, accepts --enable-reasoning, needs it, parser for qwen3, reasoning fields]
  it.each([
    ['0.8.5', true, true, 'deepseek_r1', ['reasoning_content']],
    ['0.9.2', true, false, 'qwen3', ['reasoning_content']],
    ['0.10.0', false, false, 'qwen3', ['reasoning_content']],
    ['0.10.1', false, false, 'qwen3', ['reasoning_content']],
    ['0.10.1.1', false, false, 'qwen3', ['reasoning_content']],
    ['0.11.0', false, false, 'qwen3', ['reasoning_content']],
    ['0.11.1', false, false, 'qwen3', ['reasoning', 'reasoning_content']],
    ['0.15.1', false, false, 'qwen3', ['reasoning', 'reasoning_content']],
    ['0.16.0', false, false, 'qwen3', ['reasoning']],
    ['0.17.1', false, false, 'qwen3', ['reasoning']],
  ] as const)('%s', (text, accepts, needs, parser, fields) => {
    const version = v(text);
    expect(supportsEnableReasoning(version)).toBe(accepts);
    expect(enableReasoningRequired(version)).toBe(needs);
    expect(reasoningParserFor('qwen3', version).parser).toBe(parser);
    expect(reasoningFields(version)).toEqual(fields);
  });

  it('explains the deepseek_r1 fallback and keeps other parsers as asked', () => {
    expect(reasoningParserFor('qwen3', v('0.8.5')).notice).toMatch(
      /no qwen3 reasoning parser.*0\.9\.0.*deepseek_r1/,
    );
    expect(reasoningParserFor('granite', v('0.8.5'))).toEqual({ parser: 'granite' });
    expect(reasoningParserFor('qwen3', v('0.9.2')).notice).toBeUndefined();
  });

  it('treats an unknown version as the newest', () => {
    expect(supportsEnableReasoning(null)).toBe(false);
    expect(reasoningFields(null)).toEqual(['reasoning']);
  });
});

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

describe('server.vllm_version in the plan', () => {
  function pin(vllm_version: string) {
    return PlanSchema.safeParse({
      name: 'p',
      server: { model: 'Qwen/Qwen3-8B', vllm_version },
      evals: [{ name: 'iq', backend: 'native', dataset: 'iquiz' }],
    });
  }

  it.each([
    '0.8.5',
    '0.9',
    '0.10.1.1',
    '0.8.5.post1',
    '0.11.0rc1',
    '0.10.2.dev378+g4d7fe40fc.d20250829',
    'v0.9.2',
  ])('accepts %s, which the run reads as the same version', (text) => {
    const parsed = pin(text);
    expect(parsed.success).toBe(true);
    expect(parsed.data?.server.vllm_version).toBe(text);
    expect(parseVersion(text)?.raw).toBe(text);
  });

  // The old pattern was anchored at the start only: these passed validation, then the run ignored the pin.
  it.each(['0.9.2 latest', '0.10.1-foo!', '0.8.5\n0.9.2', ' 0.9.2', 'latest', '0.10.1.'])(
    'refuses %j',
    (text) => {
      const parsed = pin(text);
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues).toEqual([
        expect.objectContaining({
          path: ['server', 'vllm_version'],
          message: 'a vLLM version such as 0.8.5 or 0.10.1.1',
        }),
      ]);
    },
  );
});

describe('detectVllmVersion', () => {
  let dir: string;

  function script(name: string, body: string): string {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'evalrig-vllm-version-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('uses the pin without starting anything', async () => {
    const result = await detectVllmVersion({ executable: join(dir, 'absent'), pinned: '0.9.2' });
    expect(result).toMatchObject({ version: { major: 0, minor: 9, patch: 2 }, source: 'pinned' });
  });

  it('uses a four-part pin such as 0.10.1.1', async () => {
    const result = await detectVllmVersion({ executable: join(dir, 'absent'), pinned: '0.10.1.1' });
    expect(result).toMatchObject({ version: { major: 0, minor: 10, patch: 1, more: [1] }, source: 'pinned' });
  });

  it('reports a pin that is not a version', async () => {
    const result = await detectVllmVersion({ executable: 'vllm', pinned: 'latest' });
    expect(result).toEqual({ version: null, detail: expect.stringContaining('"latest" is not a version') });
  });

  it('runs `<executable> --version`', async () => {
    const vllm = script('vllm', '[ "$1" = "--version" ] && echo 0.10.2.dev378+g4d7fe40fc.d20250829');
    const result = await detectVllmVersion({ executable: vllm });
    expect(result).toMatchObject({ version: { major: 0, minor: 10, patch: 2 }, source: 'cli' });
  });

  it('falls back to the package metadata through Python (a CLI older than 0.6.5)', async () => {
    const vllm = script('old-vllm', 'echo "usage: vllm [-h] {serve,complete,chat} ..." >&2; exit 2');
    const python = script(
      'python-with-vllm',
      'echo "INFO 04-16 21:06:25 [__init__.py:243] Automatically detected platform cuda."; echo 0.6.3.post1',
    );
    const result = await detectVllmVersion({ executable: vllm, python });
    expect(result).toMatchObject({ version: { major: 0, minor: 6, patch: 3 }, source: 'python' });
  });

  it('says why when neither vllm nor Python has it, and does not throw', async () => {
    const python = script(
      'python-without-vllm',
      'echo "importlib.metadata.PackageNotFoundError: No package metadata was found for vllm" >&2; exit 1',
    );
    const result = await detectVllmVersion({ executable: join(dir, 'missing-vllm'), python });
    expect(result.version).toBeNull();
    expect(result.detail).toContain('missing-vllm: command not found');
    expect(result.detail).toContain('vllm is not installed');
  });

  it('survives a missing Python too', async () => {
    const result = await detectVllmVersion({
      executable: join(dir, 'missing-vllm'),
      python: join(dir, 'missing-python'),
    });
    expect(result).toEqual({
      version: null,
      detail: expect.stringContaining('missing-python: command not found'),
    });
  });
});
