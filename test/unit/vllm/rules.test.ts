import { describe, expect, it } from 'vitest';
import { parseVersion, type Version } from '../../../src/util/pep440.js';
import {
  enableReasoningRequired,
  reasoningFields,
  reasoningParserFor,
  supportsEnableReasoning,
} from '../../../src/vllm/rules.js';

function v(text: string): Version {
  const version = parseVersion(text);
  if (!version) throw new Error(`test setup: ${text} is not a version`);
  return version;
}

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
