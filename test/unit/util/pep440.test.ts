import { describe, expect, it } from 'vitest';
import { compareVersions, parseVersion, type Version } from '../../../src/util/pep440.js';
import { reasoningFields, reasoningParserFor, supportsEnableReasoning } from '../../../src/vllm/rules.js';
import { renderVersionedServeFlags } from '../../../src/vllm/flags.js';

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
