import { describe, expect, it } from 'vitest';
import { loadPlan, parsePath } from '../../../src/plan/load.js';
import { interpolate } from '../../../src/plan/interpolate.js';
import { secretMasker } from '../../../src/plan/secrets.js';
import { VALID, writePlan } from './helpers.js';

describe('interpolation and secrets', () => {
  it('handles defaults, escapes and unset variables', () => {
    expect(interpolate('a ${X:-d} $${Y}', {}).value).toBe('a d ${Y}');
    expect(interpolate('${X}', {}).errors[0]).toMatch(/X\} is not set/);
    expect(interpolate('${X}', { X: 'v' })).toMatchObject({ value: 'v', used: ['X'], errors: [] });
  });

  it('reads .env lines: comments, export, quotes, inline comments', () => {
    const text = VALID.replace(
      'served_model_name: Qwen3-8B',
      'served_model_name: ${A}-${B}-${C}-${D}\n  quantization: ${E}',
    );
    const dotEnv = '# c\nexport A=1\nB="two words"\nC=x # comment\nD=\'q # kept\'\nE="multi\nline"\n';
    const { server } = loadPlan(writePlan(text, { '.env': dotEnv }), { env: {} }).plan;
    expect(server.served_model_name).toBe('1-two words-x-q # kept');
    expect(server.quantization).toBe('multi\nline');
  });

  it('masks every secret occurrence', () => {
    expect(secretMasker(['sk-abcdef'])('--api-key sk-abcdef and sk-abcdef')).toBe('--api-key *** and ***');
  });

  it('parses override paths', () => {
    expect(parsePath('evals[0].generation.max_tokens')).toEqual(['evals', 0, 'generation', 'max_tokens']);
  });
});
