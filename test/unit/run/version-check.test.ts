import { describe, expect, it } from 'vitest';
import { ServerSchema } from '../../../src/plan/schema.js';
import { checkServedVersion } from '../../../src/run/version-check.js';
import type { ServePlan } from '../../../src/server/runtime.js';
import { parseVersion } from '../../../src/util/pep440.js';
import { renderVersionedServeFlags } from '../../../src/vllm/flags.js';

const planned = ServerSchema.parse({ model: 'Qwen/Qwen3-8B', reasoning_parser: 'qwen3' });

/** What prepare.ts renders for `version`. */
function servedFor(version: string): ServePlan {
  const parsed = parseVersion(version);
  const rendered = renderVersionedServeFlags({
    reasoningParser: planned.reasoning_parser,
    extraArgs: planned.extra_args,
    version: parsed,
  });
  return {
    server: { ...planned, extra_args: rendered.extraArgs },
    reasoningFlags: rendered.reasoningFlags,
    version: parsed,
    versionSource: 'pinned by server.vllm_version',
    secrets: [],
    notices: [],
  };
}

describe('checkServedVersion', () => {
  it('says nothing when /version agrees or is unknown', () => {
    expect(checkServedVersion(planned, servedFor('0.9.2'), '0.9.2')).toBeNull();
    expect(checkServedVersion(planned, servedFor('0.9.2'), null)).toBeNull();
  });

  it('warns, and goes on, when the other version gets the same flags', () => {
    // 0.9.2 and 0.17.1 both take `--reasoning-parser qwen3` alone.
    const note = checkServedVersion(planned, servedFor('0.9.2'), '0.17.1');
    expect(note).toContain('vLLM reports version 0.17.1 at /version, but the flags were rendered for 0.9.2');
    expect(note).toContain('both get the same flags');
  });

  it('stops the run when the other version needs other flags', () => {
    // 0.8.5 gets `--enable-reasoning --reasoning-parser deepseek_r1`; 0.9.2 wants `--reasoning-parser qwen3`.
    expect(() => checkServedVersion(planned, servedFor('0.8.5'), '0.9.2')).toThrow(
      /0\.9\.2 needs other flags \(--reasoning-parser qwen3 instead of --enable-reasoning --reasoning-parser deepseek_r1\)/,
    );
  });
});
