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
