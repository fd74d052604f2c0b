import { describe, expect, it } from 'vitest';
import { parseVersion } from '../../../src/util/pep440.js';
import { PlanSchema } from '../../../src/plan/schema.js';

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

describe('what each runtime needs of the server', () => {
  function problems(server: Record<string, unknown>) {
    const parsed = PlanSchema.safeParse({
      name: 'p',
      server,
      evals: [{ name: 'iq', backend: 'native', dataset: 'iquiz' }],
    });
    return parsed.error?.issues.map((issue) => [issue.path.join('.'), issue.message]) ?? [];
  }

  it.each([
    [{ runtime: 'local' }, [['server.model', 'runtime local needs model (a path or a hub id)']]],
    [{ runtime: 'external' }, [['server.base_url', 'runtime external needs base_url']]],
    [
      { runtime: 'docker' },
      [
        ['server.docker.image', 'runtime docker needs docker.image (a pinned tag)'],
        ['server.model', 'runtime docker needs model (a path or a hub id)'],
      ],
    ],
    [
      { runtime: 'slurm' },
      [['server.model', 'runtime slurm needs model (a path on the cluster or a hub id)']],
    ],
  ])('%j is told what it lacks, at its path', (server, expected) => {
    expect(problems(server)).toEqual(expected);
  });

  it('checks only the runtime chosen', () => {
    expect(problems({ runtime: 'external', base_url: 'http://127.0.0.1:8000' })).toEqual([]);
    expect(
      problems({ runtime: 'docker', model: 'm', docker: { image: 'vllm/vllm-openai:v0.11.0' } }),
    ).toEqual([]);
    expect(
      problems({ runtime: 'slurm', model: 'm', slurm: { nodes: 2, gpus: 4 }, tensor_parallel_size: 3 }),
    ).toEqual([['server.slurm.nodes', expect.stringContaining('2 nodes × 4 GPUs = 8 GPUs')]]);
  });
});
