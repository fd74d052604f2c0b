import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPlan, parsePath, PlanError } from '../../src/plan/load.js';
import { interpolate } from '../../src/plan/interpolate.js';
import { secretMasker } from '../../src/plan/secrets.js';

function writePlan(text: string, extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'evalrig-plan-'));
  for (const [name, content] of Object.entries(extra)) writeFileSync(join(dir, name), content);
  const file = join(dir, 'plan.yaml');
  writeFileSync(file, text);
  return file;
}

const VALID = `name: t
server:
  model: /models/Qwen3-8B
  served_model_name: Qwen3-8B
  max_model_len: 8192
evals:
  - name: iq
    backend: native
    dataset: iquiz
    dataset_path: ./data
`;

function problemsOf(file: string, options = {}) {
  try {
    loadPlan(file, options);
  } catch (error) {
    expect(error).toBeInstanceOf(PlanError);
    return (error as PlanError).problems;
  }
  throw new Error('expected the plan to be rejected');
}

describe('loadPlan', () => {
  it('fills defaults', () => {
    const { plan } = loadPlan(writePlan(VALID));
    expect(plan.server).toMatchObject({
      runtime: 'local',
      host: '127.0.0.1',
      port: 'auto',
      executable: 'vllm',
      startup_timeout: 900,
    });
    expect(plan.evals[0]).toMatchObject({ concurrency: 8, generation: { stream: false } });
    expect(plan.output.dir).toBe('outputs');
  });

  it('names file, line and column of an unknown key with a suggestion', () => {
    const file = writePlan(VALID.replace('  max_model_len: 8192', '  max_model_lenn: 8192'));
    const [problem] = problemsOf(file);
    expect(problem).toMatchObject({ line: 5, col: 3, path: 'server.max_model_lenn' });
    expect(problem?.message).toContain('did you mean "max_model_len"?');
  });

  it('reports every problem at once, in file order, with wrong types located', () => {
    const file = writePlan(VALID.replace('8192', 'lots') + '    concurency: 4\n');
    const problems = problemsOf(file);
    expect(problems.map((p) => [p.line, p.path])).toEqual([
      [5, 'server.max_model_len'],
      [11, 'evals[0].concurency'],
    ]);
    expect(problems[0]?.message).toMatch(/expected number/);
    expect(problems[1]?.message).toContain('did you mean "concurrency"?');
  });

  it('reports a missing required key at its parent', () => {
    const file = writePlan(VALID.replace('    dataset: iquiz\n', ''));
    const [problem] = problemsOf(file);
    expect(problem).toMatchObject({ path: 'evals[0].dataset', line: 7 });
    expect(problem?.message).toContain('missing');
  });

  it('reports YAML syntax errors with a position', () => {
    const [problem] = problemsOf(writePlan('name: [unclosed\nserver: {}\n'));
    expect(problem?.line).toBeGreaterThan(0);
  });

  it('rejects a missing file with a clear message', () => {
    expect(() => loadPlan('/nonexistent/plan.yaml')).toThrow(/Plan file not found: \/nonexistent\/plan.yaml/);
  });

  it('interpolates from the environment and a .env file next to the plan; the environment wins', () => {
    const text = VALID.replace(
      'served_model_name: Qwen3-8B',
      'served_model_name: ${NAME}\n  api_key: ${MY_API_KEY}\n  executable: ${EXE:-vllm-custom}',
    );
    const file = writePlan(text, { '.env': 'NAME=from-dotenv\nMY_API_KEY="sk-secret-1234"\n' });
    const fromFile = loadPlan(file, { env: {} });
    expect(fromFile.plan.server).toMatchObject({
      served_model_name: 'from-dotenv',
      api_key: 'sk-secret-1234',
      executable: 'vllm-custom',
    });
    expect(fromFile.secrets).toContain('sk-secret-1234');
    expect(loadPlan(file, { env: { NAME: 'from-env' } }).plan.server.served_model_name).toBe('from-env');
  });

  it('fails on ${VAR:?message} with the message and position', () => {
    const file = writePlan(VALID.replace('./data', '${IQUIZ:?set IQUIZ to the IQuiz folder}'));
    const [problem] = problemsOf(file, { env: {} });
    expect(problem).toMatchObject({ line: 10 });
    expect(problem?.message).toContain('set IQUIZ to the IQuiz folder');
  });

  it('applies --set overrides typed by YAML and validated by the schema', () => {
    const { plan } = loadPlan(writePlan(VALID), {
      overrides: ['server.max_model_len=16384', 'evals[0].limit=10', 'evals[0].generation.stream=true'],
    });
    expect(plan.server.max_model_len).toBe(16384);
    expect(plan.evals[0]).toMatchObject({ limit: 10, generation: { stream: true } });
    // A string field takes the text as written, even when it looks like a number.
    expect(
      loadPlan(writePlan(VALID), { overrides: ['server.served_model_name=8080', 'server.vllm_version=0.10'] })
        .plan.server,
    ).toMatchObject({
      served_model_name: '8080',
      vllm_version: '0.10',
    });
    const problems = problemsOf(writePlan(VALID), { overrides: ['server.max_model_len=big'] });
    expect(problems[0]?.path).toBe('server.max_model_len');
  });
});

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
