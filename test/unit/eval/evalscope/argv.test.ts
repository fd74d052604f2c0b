import { describe, expect, it } from 'vitest';
import { renderEvalScopeCommand, showEvalScopeCommand } from '../../../../src/eval/evalscope/argv.js';
import { evalscopeCli } from '../../../../src/eval/evalscope/rules.js';
import { failureFromLog } from '../../../../src/eval/evalscope/failures.js';
import { EvalScopeEvalSchema } from '../../../../src/plan/schema.js';
import { parseVersion, type Version } from '../../../../src/util/pep440.js';

function version(text: string): Version {
  const parsed = parseVersion(text);
  if (!parsed) throw new Error(text);
  return parsed;
}

const tutorial = EvalScopeEvalSchema.parse({
  name: 'iq',
  backend: 'evalscope',
  datasets: ['iquiz'],
  eval_batch_size: 16,
});
const endpoint = { baseUrl: 'http://localhost:8000/v1', servedModel: 'Qwen3-8B' };

function shown(text: string, spec = tutorial, key?: string): string {
  return showEvalScopeCommand(
    renderEvalScopeCommand(spec, version(text), { ...endpoint, apiKey: key }, 'outputs/Qwen3-8B'),
  );
}

describe('the evalscope command per version', () => {
  it("is the tutorial's command for 0.17.1: --eval-type service, no --no-timestamp", () => {
    expect(shown('0.17.1')).toBe(
      'evalscope eval --model Qwen3-8B --api-url http://localhost:8000/v1 --api-key EMPTY --eval-type service --eval-batch-size 16 --datasets iquiz --work-dir outputs/Qwen3-8B',
    );
  });

  it.each(['1.0.0', '1.4.0', '1.14.0'])('uses openai_api and --no-timestamp from 1.0 (%s)', (text) => {
    expect(shown(text)).toBe(
      'evalscope eval --model Qwen3-8B --api-url http://localhost:8000/v1 --api-key EMPTY --eval-type openai_api --eval-batch-size 16 --datasets iquiz --work-dir outputs/Qwen3-8B --no-timestamp',
    );
  });

  it('hands the earlier output folder to --use-cache only when given one', () => {
    const command = renderEvalScopeCommand(tutorial, version('1.4.0'), endpoint, 'out', 'out');
    expect(command.args.slice(-3)).toEqual(['--no-timestamp', '--use-cache', 'out']);
    expect(shown('1.4.0')).not.toContain('--use-cache');
  });

  it('knows --version only from 1.0', () => {
    expect(evalscopeCli(version('0.17.1')).versionFlag).toBe(false);
    expect(evalscopeCli(version('1.0.0')).versionFlag).toBe(true);
  });

  it('passes limit, generation_config and dataset_args as JSON, extra_args last, and an executable list first', () => {
    const spec = EvalScopeEvalSchema.parse({
      name: 'iq',
      backend: 'evalscope',
      datasets: ['iquiz', 'gsm8k'],
      limit: 5,
      generation_config: { max_tokens: 2048, temperature: 0 },
      dataset_args: { iquiz: { local_path: '/data/iquiz' } },
      extra_args: ['--seed', '7'],
      executable: ['python', '-m', 'evalscope.cli.cli'],
    });
    const command = renderEvalScopeCommand(spec, version('1.4.0'), endpoint, 'w');
    expect(command.file).toBe('python');
    expect(command.args.slice(0, 3)).toEqual(['-m', 'evalscope.cli.cli', 'eval']);
    expect(
      command.args.slice(command.args.indexOf('--datasets'), command.args.indexOf('--datasets') + 3),
    ).toEqual(['--datasets', 'iquiz', 'gsm8k']);
    expect(command.args.slice(-8)).toEqual([
      '--limit',
      '5',
      '--generation-config',
      '{"max_tokens":2048,"temperature":0}',
      '--dataset-args',
      '{"iquiz":{"local_path":"/data/iquiz"}}',
      '--seed',
      '7',
    ]);
    expect(showEvalScopeCommand(command)).toContain(
      `--generation-config '{"max_tokens":2048,"temperature":0}'`,
    );
  });

  it('masks the API key in the shown command, but passes it to the program', () => {
    const command = renderEvalScopeCommand(
      tutorial,
      version('1.0.0'),
      { ...endpoint, apiKey: 'sk-secret-123' },
      'w',
    );
    expect(command.args).toContain('sk-secret-123');
    expect(showEvalScopeCommand(command)).not.toContain('sk-secret-123');
    expect(showEvalScopeCommand(command)).toContain('--api-key ***');
  });
});

describe('failure reasons from the log', () => {
  it.each([
    ["/venv/bin/python: No module named 'evalscope'", 'not-installed'],
    ["ValueError: Benchmark iquizz not found, available benchmarks: ['iquiz']", 'unknown-dataset'],
    ['openai.APIConnectionError: Connection error. ([Errno 111] Connection refused)', 'connection-refused'],
    ['torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB', 'out-of-memory'],
    ["evalscope eval: error: argument --eval-type: invalid choice: 'service'", 'rejected-arguments'],
  ])('%s → %s', (line, reason) => {
    const failure = failureFromLog(`INFO start\n${line}\n`);
    expect(failure?.reason).toBe(reason);
    expect(failure?.fix.length).toBeGreaterThan(10);
  });

  it('names the unknown benchmark in the fix', () => {
    expect(failureFromLog('ValueError: Benchmark iquizz not found')?.fix).toContain('"iquizz"');
  });

  it('finds nothing in an ordinary log', () => {
    expect(failureFromLog('INFO all fine\n')).toBeUndefined();
  });
});
