import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { planJsonSchema } from '../../src/commands/plan-json-schema.js';
import { loadPlan } from '../../src/plan/load.js';
import type { Plan, NativeEvalSpec } from '../../src/plan/schema.js';
import {
  expectServerGone,
  readJson,
  readJsonLines,
  runDirFrom,
  startCli,
  writeSimPlan,
} from './cli-helpers.js';
import { DEMO_QUIZ, ROOT } from '../paths.js';

describe('JSON Schema', () => {
  it('docs/plan.schema.json is what `evalrig schema` prints (regenerate with: node dist/cli/cli.js schema > docs/plan.schema.json)', () => {
    expect(JSON.parse(readFileSync(join(ROOT, 'docs/plan.schema.json'), 'utf8'))).toEqual(planJsonSchema());
  });

  it('validates every plan in configs/ (after interpolation defaults) and rejects a typo', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(planJsonSchema());
    const configs = readdirSync(join(ROOT, 'configs')).filter((f) => f.endsWith('.yaml'));
    expect(configs.length).toBeGreaterThanOrEqual(2);
    for (const name of configs) {
      // ${VAR:-default} is a string to the schema either way; editors see the file as written.
      const plan: unknown = parse(readFileSync(join(ROOT, 'configs', name), 'utf8'));
      expect(validate(plan), `${name}: ${JSON.stringify(validate.errors)}`).toBe(true);
      expect(validate({ ...(plan as object), nmae: 'typo' })).toBe(false);
    }
  });

  it('every plan in configs/ passes `evalrig validate`', async () => {
    const configs = readdirSync(join(ROOT, 'configs'))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => join(ROOT, 'configs', f));
    const result = await startCli(['validate', ...configs]);
    expect(result.exitCode, result.all).toBe(0);
  });
});

describe('validate and dry-run', () => {
  it('catches a typo in any key of configs/qwen3-8b.yaml with line and column', async () => {
    const source = readFileSync(join(ROOT, 'configs/qwen3-8b.yaml'), 'utf8');
    const lines = source.split('\n');
    const keyLines = lines.flatMap((line, index) => {
      const match = /^(\s*)(-\s+)?([a-z_]+):/.exec(line);
      return match && !line.trim().startsWith('#')
        ? [{ index, col: (match[1]?.length ?? 0) + (match[2]?.length ?? 0) + 1, key: match[3] as string }]
        : [];
    });
    expect(keyLines.length).toBeGreaterThan(20);
    const { dir } = writeSimPlan();
    for (const { index, col, key } of keyLines) {
      const broken = [...lines];
      broken[index] = (broken[index] as string).replace(`${key}:`, `${key}x:`);
      const file = join(dir, `typo-${index}.yaml`);
      writeFileSync(file, broken.join('\n'));
      let message = '';
      try {
        loadPlan(file, { env: {} });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message, `${key} on line ${index + 1}`).toContain(`typo-${index}.yaml:${index + 1}:${col}:`);
      expect(message).toContain(`unknown key "${key}x"`);
      expect(message).toContain(`did you mean "${key}"?`);
    }
    // And through the CLI, with exit code 2.
    const result = await startCli(['validate', join(dir, `typo-${keyLines[3]?.index}.yaml`)]);
    expect(result.exitCode).toBe(2);
    expect(result.all).toContain('did you mean');
  }, 120_000);

  const versions = [
    { version: '0.8.5', reasoning: '--enable-reasoning --reasoning-parser deepseek_r1' },
    { version: '0.9.2', reasoning: '--reasoning-parser qwen3' },
    { version: '0.11.0', reasoning: '--reasoning-parser qwen3' },
    { version: '0.17.1', reasoning: '--reasoning-parser qwen3' },
  ];
  for (const { version, reasoning } of versions) {
    it(`--dry-run renders the argv for vLLM ${version} from the same plan and starts nothing`, async () => {
      const result = await startCli([
        'plan',
        join(ROOT, 'configs/qwen3-8b.yaml'),
        '--dry-run',
        '--set',
        `server.vllm_version=${version}`,
      ]);
      expect(result.exitCode, result.all).toBe(0);
      expect(result.all).toContain(`vLLM version: ${version} (pinned`);
      expect(result.all).toContain(
        `command: vllm serve /root/autodl-tmp/Qwen/Qwen3-8B --host 127.0.0.1 --port <auto> --served-model-name Qwen3-8B --max-model-len 8192 ${reasoning}`,
      );
      expect(result.all).toContain('VLLM_USE_MODELSCOPE=true');
      expect(result.all).toMatch(/iquiz: backend native, dataset iquiz .*concurrency 16/);
    });
  }

  it('a flag the version rejects is an error before start, naming the version and the fix', async () => {
    const { file } = writeSimPlan({
      server: { vllm_version: '0.8.5', reasoning_parser: undefined, extra_args: ['--enable-reasoning'] },
    });
    const result = await startCli(['plan', file, '--dry-run']);
    expect(result.exitCode).toBe(2);
    expect(result.all).toMatch(/vLLM 0\.8\.5/);
    expect(result.all).toMatch(/--enable-reasoning needs --reasoning-parser/);
  });
});

describe('secrets never reach a file or a log line', () => {
  it('masks api_key and secret env values everywhere in the run directory and the console', async () => {
    const apiKey = 'sk-evalrig-test-0123456789';
    const token = 'hf_TOKENabcdef123456';
    const { file } = writeSimPlan({
      server: { api_key: apiKey },
      sim: { HF_TOKEN: token },
      eval: { limit: 3 },
    });
    const result = await startCli(['plan', file]);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).not.toContain(apiKey);
    expect(result.all).not.toContain(token);
    const runDir = runDirFrom(result.all);
    const files = readdirSync(runDir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
    expect(files.length).toBeGreaterThan(5);
    for (const entry of files) {
      const text = readFileSync(join(entry.parentPath, entry.name), 'utf8');
      expect(text, entry.name).not.toContain(apiKey);
      expect(text, entry.name).not.toContain(token);
    }
    // The key reached vLLM through VLLM_API_KEY (the run passed /v1/* with it), never on the command line.
    const manifest = readJson<{ server: { argv: string[] } }>(join(runDir, 'manifest.json'));
    expect(manifest.server.argv.join(' ')).not.toContain('--api-key');
    expectServerGone(runDir);
  });

  it('masks by name segment: HF_KEY is a secret, TOKENIZERS_PARALLELISM is not, and false stays false', async () => {
    const key = 'hf-key-abcdefgh-0123';
    const { file } = writeSimPlan({
      sim: { HF_KEY: key, TOKENIZERS_PARALLELISM: 'false' },
      eval: { limit: 1 },
    });
    const result = await startCli(['plan', file]);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).not.toContain(key);
    const runDir = runDirFrom(result.all);
    const resolved = parse(readFileSync(join(runDir, 'plan.resolved.yaml'), 'utf8')) as Plan;
    expect(resolved.server.env).toMatchObject({ HF_KEY: '***', TOKENIZERS_PARALLELISM: 'false' });
    expect((resolved.evals[0] as NativeEvalSpec | undefined)?.generation.stream).toBe(false);
  });
});

describe('typed values from the environment', () => {
  it('validates ${VAR} in number fields and durations with units, and locates a bad value', async () => {
    const { file } = writeSimPlan();
    const source = readFileSync(file, 'utf8')
      .replace('max_model_len: 8192', 'max_model_len: ${LEN:-8192}')
      .replace('startup_timeout: 30', 'startup_timeout: ${STARTUP:-1m30s}');
    writeFileSync(file, source);
    const good = await startCli(['validate', file], { LEN: '16384' });
    expect(good.exitCode, good.all).toBe(0);
    const bad = await startCli(['validate', file], { LEN: 'lots', STARTUP: '90 seconds' });
    expect(bad.exitCode).toBe(2);
    const lines = source.split('\n');
    const lenLine = lines.findIndex((line) => line.includes('${LEN')) + 1;
    const startupLine = lines.findIndex((line) => line.includes('${STARTUP')) + 1;
    expect(bad.all).toMatch(
      new RegExp(`plan\\.yaml:${lenLine}:\\d+: server\\.max_model_len: .*"lots" comes from \\$\\{LEN\\}`),
    );
    expect(bad.all).toMatch(
      new RegExp(`plan\\.yaml:${startupLine}:\\d+: server\\.startup_timeout: write a duration`),
    );
  });
});

describe.concurrent('reasoning placement per simulated vLLM version', () => {
  const cases = [
    { version: '0.8.5', parser: 'deepseek_r1' },
    { version: '0.9.2', parser: 'qwen3' },
    { version: '0.11.0', parser: 'qwen3' },
    { version: '0.17.1', parser: 'qwen3' },
    { version: '0.17.1', parser: undefined },
  ];
  for (const { version, parser } of cases) {
    it(`vLLM ${version}, ${parser ? `parser ${parser}` : 'no reasoning parser (inline <think>)'}: reasoning split off, answer scored from content`, async () => {
      const { file } = writeSimPlan({
        server: { reasoning_parser: parser },
        sim: { VLLM_SIM_VERSION: version, VLLM_SIM_ACCURACY: '1' },
        eval: { limit: 3 },
      });
      const result = await startCli(['plan', file]);
      expect(result.exitCode, result.all).toBe(0);
      const runDir = runDirFrom(result.all);
      const predictions = readJsonLines<{
        content: string;
        reasoning: string | null;
        extracted: string;
        gold: string;
      }>(join(runDir, 'evals/quiz/predictions.jsonl'));
      expect(predictions).toHaveLength(6);
      for (const p of predictions) {
        expect(p.reasoning).toBeTruthy();
        expect(p.content).not.toContain('<think>');
        expect(p.extracted).toBe(p.gold);
      }
      expect(
        readJson<{ server: { vllm_version: string } }>(join(runDir, 'manifest.json')).server.vllm_version,
      ).toBe(version);
      expectServerGone(runDir);
    });
  }
});

describe('matrix', () => {
  it('runs each variant with one server at a time and compares them side by side', async () => {
    const { file } = writeSimPlan({ eval: { limit: 4 } });
    const withMatrix =
      readFileSync(file, 'utf8') +
      [
        'matrix:',
        '  - name: sure',
        '    set: { server.env.VLLM_SIM_ACCURACY: "1" }',
        '  - name: wrong',
        '    set: { server.env.VLLM_SIM_ACCURACY: "0" }',
        '',
      ].join('\n');
    writeFileSync(file, withMatrix);
    const result = await startCli(['plan', file]);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toMatch(/Subset\s*│\s*sure\s*│\s*wrong/);
    expect(result.all).toMatch(/OVERALL\s*│\s*1\.0\s*│\s*0\.0/);
    const runDir = runDirFrom(result.all);
    const summary = readJson<{
      status: string;
      variants: { name: string; summary: { evals: { score: number }[] } }[];
    }>(join(runDir, 'summary.json'));
    expect(summary.variants.map((v) => [v.name, v.summary.evals[0]?.score])).toEqual([
      ['sure', 1],
      ['wrong', 0],
    ]);
    for (const variant of ['sure', 'wrong']) expectServerGone(join(runDir, variant));
  });

  it('--dry-run says how many variants would run at once, and starts nothing', async () => {
    const { file, outDir } = writeSimPlan();
    const plan = readFileSync(file, 'utf8');
    const variants = ['a', 'b', 'c'].map(
      (name) => `    - { name: ${name}, set: { server.env.VLLM_SIM_ACCURACY: "1" } }`,
    );
    writeFileSync(file, [plan + 'matrix:', '  max_parallel: 2', '  variants:', ...variants, ''].join('\n'));
    const parallel = await startCli(['plan', file, '--dry-run']);
    expect(parallel.exitCode, parallel.all).toBe(0);
    expect(parallel.stdout.split('\n')[0]).toBe('matrix: 3 variants, up to 2 at once (max_parallel: 2)');
    expect(parallel.stdout).toContain('=== matrix variant c ===');
    expect(existsSync(outDir)).toBe(false);

    const list = variants.slice(0, 2).map((line) => line.slice(2));
    writeFileSync(file, [plan + 'matrix:', ...list, ''].join('\n'));
    const oneAtATime = await startCli(['plan', file, '--dry-run']);
    expect(oneAtATime.exitCode, oneAtATime.all).toBe(0);
    expect(oneAtATime.stdout.split('\n')[0]).toBe('matrix: 2 variants, one at a time (max_parallel: 1)');
  });
});

describe('generic multiple-choice data', () => {
  it('runs a general_mcq CSV folder with repeats and reports the spread', async () => {
    const { file } = writeSimPlan({
      evals: [
        {
          name: 'bio',
          backend: 'native',
          dataset: 'mcq',
          dataset_path: join(ROOT, 'test/fixtures/datasets/general-mcq'),
          concurrency: 4,
          mcq: { layout: 'general_mcq', split: 'val', repeats: 3, seed: 7 },
          generation: { max_tokens: 512, temperature: 1.0 },
        },
      ],
    });
    const result = await startCli(['plan', file]);
    expect(result.exitCode, result.all).toBe(0);
    const runDir = runDirFrom(result.all);
    const evalResult = readJson<{
      num: number;
      repeats: { k: number; mean: number; std: number; per_repeat: unknown[] };
    }>(join(runDir, 'evals/bio/result.json'));
    expect(evalResult.repeats.k).toBe(3);
    expect(evalResult.repeats.per_repeat).toHaveLength(3);
    expect(evalResult.num % 3).toBe(0);
    expect(readFileSync(join(runDir, 'report.md'), 'utf8')).toContain('3 repeats, mean accuracy');
    const manifest = readJson<{ datasets: { files: { sha256: string }[] }[] }>(join(runDir, 'manifest.json'));
    expect(manifest.datasets[0]?.files[0]?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expectServerGone(runDir);
  });
});

describe('command line', () => {
  it('--output-dir puts the run directory there and the resolved plan says so', async () => {
    const { file, dir } = writeSimPlan({ eval: { limit: 1 } });
    const elsewhere = join(dir, 'elsewhere');
    const result = await startCli(['plan', file, '--output-dir', elsewhere, '--only', 'quiz']);
    expect(result.exitCode, result.all).toBe(0);
    const runDir = runDirFrom(result.all);
    expect(runDir.startsWith(join(elsewhere, 'e2e'))).toBe(true);
    expect(readFileSync(join(runDir, 'plan.resolved.yaml'), 'utf8')).toContain(`dir: ${elsewhere}`);
  });

  it('rejects unknown options and an unknown --only name with exit 2', async () => {
    const { file } = writeSimPlan();
    const bogus = await startCli(['validate', '--bogus', file]);
    expect(bogus.exitCode).toBe(2);
    expect(bogus.all).toContain("Unknown option '--bogus'");
    const only = await startCli(['plan', file, '--only', 'nope', '--dry-run']);
    expect(only.exitCode).toBe(2);
    expect(only.all).toContain('--only nope: no such evaluation in plan e2e (it has: quiz)');
  });
});

describe('selection', () => {
  it('--only runs just the named evaluation of several', async () => {
    const quiz = { backend: 'native', dataset: 'iquiz', dataset_path: DEMO_QUIZ, concurrency: 4, limit: 1 };
    const { file } = writeSimPlan({
      evals: [
        { name: 'first', ...quiz },
        { name: 'second', ...quiz },
      ],
    });
    const result = await startCli(['plan', file, '--only', 'second']);
    expect(result.exitCode, result.all).toBe(0);
    const runDir = runDirFrom(result.all);
    expect(readdirSync(join(runDir, 'evals'))).toEqual(['second']);
    expect(
      readJson<{ evals: { name: string }[] }>(join(runDir, 'summary.json')).evals.map((e) => e.name),
    ).toEqual(['second']);
  });

  it('measures an accuracy between 0 and 1 within sampling error (200 keyed questions at 0.6)', async () => {
    const { file, dir } = writeSimPlan({ sim: { VLLM_SIM_ACCURACY: '0.6' } });
    const quizDir = join(dir, 'quiz200');
    mkdirSync(quizDir);
    for (const subset of ['IQ', 'EQ']) {
      const lines = Array.from({ length: 100 }, (_, i) =>
        JSON.stringify({
          question: `${subset} 测试题 ${i}：${i} 与 ${i + 1} 哪个大？`,
          choices: [String(i), String(i + 1), '一样大'],
          answer: 'B',
          level: 1,
        }),
      );
      writeFileSync(join(quizDir, `${subset}.jsonl`), lines.join('\n') + '\n');
    }
    const plan = readFileSync(file, 'utf8').replaceAll(DEMO_QUIZ, quizDir);
    writeFileSync(file, plan);
    const result = await startCli(['plan', file]);
    expect(result.exitCode, result.all).toBe(0);
    const summary = readJson<{ evals: { num: number; score: number }[] }>(
      join(runDirFrom(result.all), 'summary.json'),
    );
    expect(summary.evals[0]?.num).toBe(200);
    // Binomial standard error at n=200, p=0.6 is 0.035: three of them either side.
    expect(Math.abs((summary.evals[0]?.score ?? 0) - 0.6)).toBeLessThan(0.105);
  });
});

describe('IQuiz sampling options', () => {
  it('shuffles, limits after the shuffle and repeats IQuiz like any MCQ data', async () => {
    const { file } = writeSimPlan({ eval: { limit: 2, mcq: { shuffle: true, seed: 3, repeats: 2 } } });
    const result = await startCli(['plan', file]);
    expect(result.exitCode, result.all).toBe(0);
    const runDir = runDirFrom(result.all);
    const evalResult = readJson<{ num: number; repeats: { k: number } }>(
      join(runDir, 'evals/quiz/result.json'),
    );
    expect(evalResult).toMatchObject({ num: 8, repeats: { k: 2 } });
    const ids = readJsonLines<{ id: string }>(join(runDir, 'evals/quiz/predictions.jsonl')).map((p) => p.id);
    expect(ids.filter((id) => id.endsWith('#r2'))).toHaveLength(4);
  });

  it('stops before starting vLLM on a bad record when on_bad_record is fail', async () => {
    const { file, dir } = writeSimPlan({ eval: { mcq: { on_bad_record: 'fail' } } });
    const quizDir = join(dir, 'bad-quiz');
    mkdirSync(quizDir);
    writeFileSync(
      join(quizDir, 'IQ.jsonl'),
      '{"question":"1+1?","choices":["1","2"],"answer":"B"}\n{"question":"no gold","choices":["a","b"]}\n',
    );
    writeFileSync(join(quizDir, 'EQ.jsonl'), '{"question":"hi?","choices":["yes","no"],"answer":"A"}\n');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(`dataset_path: ${DEMO_QUIZ}`, `dataset_path: ${quizDir}`),
    );
    const result = await startCli(['plan', file]);
    expect(result.exitCode, result.all).toBe(1);
    expect(result.all).toMatch(/IQ\.jsonl:2/);
    expect(result.all).not.toContain('started:');
  });
});
