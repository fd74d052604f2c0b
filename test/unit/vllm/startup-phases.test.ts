import { describe, expect, it } from 'vitest';
import { capacityFact, startupPhaseOf } from '../../../src/vllm/startup-phases.js';

describe('start-up phases', () => {
  it('maps log lines to phases and reads capacity facts', () => {
    expect(
      startupPhaseOf(
        '(EngineCore_DP0 pid=1) INFO 10-21 09:11:57 [kv_cache_utils.py:1087] GPU KV cache size: 425,424 tokens',
      ),
    ).toBe('allocating KV cache');
    expect(startupPhaseOf('INFO:     Application startup complete.')).toBe('up');
    expect(capacityFact('GPU KV cache size: 425,424 tokens')).toEqual({ kvCacheTokens: 425424 });
    expect(capacityFact('Maximum concurrency for 65,536 tokens per request: 6.49x')).toEqual({
      maxConcurrency: 6.49,
    });
  });
});
