import { describe, expect, it } from 'vitest';
import { loadPlan } from '../../../src/plan/load.js';
import { VALID, problemsOf, writePlan } from './helpers.js';
import type { NativeEvalSpec } from '../../../src/plan/schema.js';

function plan(server: string, rest = ''): string {
  return `name: t
server:
  model: /models/Qwen3-8B
${server}
evals:
  - name: iq
    backend: native
    dataset: iquiz
    dataset_path: ./data
${rest}`;
}

describe('names', () => {
  it('rejects a second evaluation of the same name at its position', () => {
    const file = writePlan(
      plan('', '  - name: iq\n    backend: native\n    dataset: iquiz\n    dataset_path: ./other\n'),
    );
    const problems = problemsOf(file);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ line: 10, col: 11, path: 'evals[1].name' });
    expect(problems[0]?.message).toBe(
      'evaluation name "iq" is already used by evals[0]: each evaluation writes to evals/<name>/, so give each a name of its own',
    );
  });

  it('rejects names that differ only in case', () => {
    const file = writePlan(
      plan('', '  - name: IQ\n    backend: native\n    dataset: iquiz\n    dataset_path: ./other\n'),
    );
    expect(problemsOf(file)[0]?.message).toContain('"IQ" is already used by evals[0] as "iq"');
  });

  it('rejects a second matrix variant of the same name at its position', () => {
    const matrix = [
      'matrix:',
      '  - name: a',
      '    set: { "evals[0].limit": 1 }',
      '  - name: b',
      '    set: { "evals[0].limit": 2 }',
      '  - name: a',
      '    set: { "evals[0].limit": 3 }',
      '',
    ].join('\n');
    const problems = problemsOf(writePlan(plan('', matrix)));
    expect(problems).toEqual([expect.objectContaining({ line: 15, col: 11, path: 'matrix[2].name' })]);
    expect(problems[0]?.message).toContain('variant name "a" is already used by matrix[0]');
  });

  it('rejects duplicate evaluation names a matrix override creates', () => {
    const file = writePlan(
      plan(
        '',
        '  - name: other\n    backend: native\n    dataset: iquiz\n' +
          'matrix:\n  - name: v\n    set: { "evals[1].name": iq }\n',
      ),
    );
    const [problem] = problemsOf(file);
    expect(problem).toMatchObject({ line: 15, path: 'matrix[0].set: evals[1].name' });
    expect(problem?.message).toContain('evaluation name "iq" is already used by evals[0]');
  });
});

it("reports a variant's problems with the plan's own, and the plan's once", () => {
  const matrix = [
    'matrix:',
    '  - name: a',
    '    set: { server.max_model_lenn: 4096 }',
    '  - name: A',
    '    set: { server.port: 0 }',
    '',
  ].join('\n');
  const problems = problemsOf(writePlan(plan('  max_model_len: lots', matrix)));
  expect(problems.map((p) => [p.line, p.path])).toEqual([
    [4, 'server.max_model_len'],
    [12, 'matrix[0].set: server.max_model_lenn'],
    [13, 'matrix[1].name'],
    [14, 'matrix[1].set: server.port'],
  ]);
  expect(problems[1]?.message).toBe('unknown key "max_model_lenn" (did you mean "max_model_len"?)');
  expect(problems[2]?.message).toContain('variant name "A" is already used by matrix[0] as "a"');
});

describe('typed interpolation', () => {
  const typed = plan(
    [
      '  max_model_len: ${LEN:-8192}',
      '  gpu_memory_utilization: ${GPU_MEM}',
      '  enforce_eager: ${EAGER:-false}',
      '  port: ${PORT:-auto}',
      '  served_model_name: ${NAME}',
      '  env: { SOME_ID: "${NAME}" }',
      '  startup_timeout: ${STARTUP:-10m}',
    ].join('\n'),
  );

  it('gives a substituted value the type its field expects', () => {
    const { plan: loaded } = loadPlan(writePlan(typed), { env: { GPU_MEM: '0.85', NAME: '0123' } });
    expect(loaded.server).toMatchObject({
      max_model_len: 8192,
      gpu_memory_utilization: 0.85,
      enforce_eager: false,
      port: 'auto',
      served_model_name: '0123',
      env: { SOME_ID: '0123' },
      startup_timeout: 600,
    });
    const other = loadPlan(writePlan(typed), {
      env: { LEN: '16384', GPU_MEM: '0.9', NAME: 'true', EAGER: 'true', PORT: '8001', STARTUP: '90' },
    }).plan.server;
    expect(other).toMatchObject({
      max_model_len: 16384,
      enforce_eager: true,
      port: 8001,
      served_model_name: 'true',
      startup_timeout: 90,
    });
  });

  it('reports a value that is not a number at its position, naming the variable', () => {
    const problems = problemsOf(writePlan(typed), { env: { LEN: 'lots', GPU_MEM: '0.9', NAME: 'm' } });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ line: 4, col: 18, path: 'server.max_model_len' });
    expect(problems[0]?.message).toMatch(/expected number.*\(the value "lots" comes from \$\{LEN\}\)$/);
  });

  it('names a secret variable without its value', () => {
    const file = writePlan(plan('  max_model_len: ${HF_TOKEN}'));
    const [problem] = problemsOf(file, { env: { HF_TOKEN: 'hf_abcdefgh' } });
    expect(problem?.message).toContain('(the value comes from ${HF_TOKEN})');
    expect(problem?.message).not.toContain('hf_abcdefgh');
  });

  it('types matrix overrides by the field they set', () => {
    const matrix = [
      'matrix:',
      '  - name: a',
      '    set: { server.max_model_len: "${LEN}", server.served_model_name: "${NAME}" }',
      '  - name: b',
      '    set: { server.max_model_len: "${BAD}" }',
      '',
    ].join('\n');
    const file = writePlan(plan('', matrix));
    const problems = problemsOf(file, { env: { LEN: '4096', NAME: '0123', BAD: 'big' } });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ line: 14, col: 34, path: 'matrix[1].set: server.max_model_len' });
    expect(problems[0]?.message).toContain('(the value "big" comes from ${BAD})');
    const { variants } = loadPlan(file, { env: { LEN: '4096', NAME: '0123', BAD: '2048' } });
    expect(variants.map((v) => v.plan.server.max_model_len)).toEqual([4096, 2048]);
    expect(variants[0]?.plan.server.served_model_name).toBe('0123');
  });

  it('locates an unset variable with list indices in its path', () => {
    const [problem] = problemsOf(writePlan(plan('').replace('./data', '${DATA}')), { env: {} });
    expect(problem).toMatchObject({ line: 9, path: 'evals[0].dataset_path' });
  });
});

describe('durations', () => {
  it('reads seconds and texts with units in every duration field', () => {
    const file = writePlan(
      plan('  startup_timeout: 1h30m\n  stop_timeout: "500ms"').replace(
        'dataset_path: ./data',
        'dataset_path: ./data\n    generation: { timeout: 2m }',
      ),
    );
    const { plan: loaded } = loadPlan(file);
    expect(loaded.server).toMatchObject({ startup_timeout: 5400, stop_timeout: 0.5 });
    expect((loaded.evals[0] as NativeEvalSpec | undefined)?.generation.timeout).toBe(120);
    const set = loadPlan(file, { overrides: ['server.startup_timeout=90', 'server.stop_timeout=10s'] });
    expect(set.plan.server).toMatchObject({ startup_timeout: 90, stop_timeout: 10 });
  });

  it('keeps the defaults in seconds', () => {
    const { plan: loaded } = loadPlan(writePlan(plan('')));
    expect(loaded.server).toMatchObject({ startup_timeout: 900, stop_timeout: 30 });
    expect((loaded.evals[0] as NativeEvalSpec | undefined)?.generation.timeout).toBe(600);
  });

  it('says which forms a duration takes', () => {
    const [problem] = problemsOf(writePlan(plan('  startup_timeout: 10 minutes')));
    expect(problem).toMatchObject({ line: 4, path: 'server.startup_timeout' });
    expect(problem?.message).toContain(
      'write a duration as seconds (90) or as a text with units ms, s, m, h',
    );
  });
});

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

describe('backends', () => {
  const evalscope = (extra: string) =>
    writePlan(
      `name: t\nserver:\n  model: /models/Qwen3-8B\nevals:\n  - name: es\n    backend: evalscope\n    datasets: [iquiz]\n${extra}`,
    );

  it("names another backend's key as such, with this backend's name for the setting", () => {
    const [problem] = problemsOf(evalscope('    concurrency: 16\n'));
    expect(problem).toMatchObject({ line: 8, col: 5, path: 'evals[0].concurrency' });
    expect(problem?.message).toBe(
      'unknown key "concurrency": concurrency is a key of backend native and perf; for backend evalscope use eval_batch_size',
    );
    const [nativeOnly] = problemsOf(evalscope('    subsets: [IQ]\n'));
    expect(nativeOnly?.message).toBe(
      'unknown key "subsets": subsets is a key of backend native; not of backend evalscope',
    );
  });

  it('gives each unknown key of one object a problem of its own, at its own line', () => {
    const problems = problemsOf(evalscope('    concurrency: 16\n    subsets: [IQ]\n'));
    expect(problems.map(({ line, path }) => ({ line, path }))).toEqual([
      { line: 8, path: 'evals[0].concurrency' },
      { line: 9, path: 'evals[0].subsets' },
    ]);
  });

  it("suggests keys of the plan's own backend only", () => {
    const [typo] = problemsOf(evalscope('    eval_batch_sise: 16\n'));
    expect(typo?.message).toBe('unknown key "eval_batch_sise" (did you mean "eval_batch_size"?)');
    const [native] = problemsOf(writePlan(VALID + '    concurency: 4\n'));
    expect(native?.message).toBe('unknown key "concurency" (did you mean "concurrency"?)');
  });

  it('says a missing backend is required and lists them all', () => {
    const [missing] = problemsOf(writePlan(VALID.replace('    backend: native\n', '')));
    expect(missing).toMatchObject({ path: 'evals[0].backend' });
    expect(missing?.message).toBe('backend is required: native, evalscope or perf');
    const [unknown] = problemsOf(writePlan(VALID.replace('backend: native', 'backend: vllm')));
    expect(unknown?.message).toBe('backend "vllm" is not known: use native, evalscope or perf');
  });
});
describe('matrix with max_parallel', () => {
  const parallel = (lines: string[]) => writePlan(plan('', ['matrix:', ...lines, ''].join('\n')));

  it('reads the variants and how many run at once; a list runs one at a time', () => {
    const file = parallel([
      '  max_parallel: 2',
      '  variants:',
      '    - name: a',
      '      set: { server.max_model_len: "${LEN}" }',
      '    - name: b',
      '      set: { "evals[0].limit": 2 }',
    ]);
    const loaded = loadPlan(file, { env: { LEN: '4096' } });
    expect(loaded.plan.matrix).toMatchObject({ max_parallel: 2 });
    expect(loaded.variants.map((v) => v.name)).toEqual(['a', 'b']);
    expect(loaded.variants[0]?.plan.server.max_model_len).toBe(4096);
    expect((loaded.variants[1]?.plan.evals[0] as NativeEvalSpec).limit).toBe(2);
    const defaulted = loadPlan(parallel(['  variants:', '    - name: a', '      set: {}']));
    expect(defaulted.plan.matrix).toMatchObject({ max_parallel: 1 });
  });

  it('locates problems inside the variants at their line, under matrix.variants', () => {
    const duplicate = problemsOf(
      parallel([
        '  max_parallel: 2',
        '  variants:',
        '    - name: a',
        '      set: {}',
        '    - name: a',
        '      set: {}',
      ]),
    );
    expect(duplicate).toEqual([
      expect.objectContaining({ line: 15, col: 13, path: 'matrix.variants[1].name' }),
    ]);
    expect(duplicate[0]?.message).toContain('already used by matrix.variants[0]');
    const override = problemsOf(
      parallel(['  variants:', '    - name: a', '      set: { server.max_model_len: big }']),
    );
    expect(override).toEqual([
      expect.objectContaining({ line: 13, path: 'matrix.variants[0].set: server.max_model_len' }),
    ]);
    const [zero] = problemsOf(
      parallel(['  max_parallel: 0', '  variants:', '    - name: a', '      set: {}']),
    );
    expect(zero).toMatchObject({ line: 11, col: 17, path: 'matrix.max_parallel' });
    const [typo] = problemsOf(
      parallel(['  max_paralel: 2', '  variants:', '    - name: a', '      set: {}']),
    );
    expect(typo?.message).toBe('unknown key "max_paralel" (did you mean "max_parallel"?)');
    const [nameless] = problemsOf(parallel(['  variants:', '    - set: {}']));
    expect(nameless).toMatchObject({
      path: 'matrix.variants[0].name',
      message: 'required string is missing',
    });
    const [scalar] = problemsOf(writePlan(plan('', 'matrix: two\n')));
    expect(scalar).toMatchObject({ line: 10, path: 'matrix', message: 'expected array or object' });
  });
});
