import { compareVersions, formatVersion, parseVersion, type Version } from '../../util/pep440.js';
import { renderVersionedServeFlags } from '../../vllm/flags.js';
import { enableReasoningRequired, reasoningFields } from '../../vllm/rules.js';
import { ok, skipped } from './results.js';
import type { CheckResult, HostFacts, PreflightInput } from './types.js';

/** The oldest vLLM the design supports (design.md, versions table); Qwen3 itself needs 0.8.5. */
const SUPPORTED_FROM: Version = { major: 0, minor: 8, patch: 5, raw: '0.8.5' };

export function checkVllm(input: PreflightInput, facts: HostFacts): CheckResult | null {
  const title = 'vLLM';
  const { vllm } = input.needs;
  if (vllm === 'none') return null;
  if (vllm !== 'this-host') return skipped('vllm', title, vllm.elsewhere);
  const detection = facts.vllm;
  if (detection === null) return skipped('vllm', title, 'not probed');
  const what = facts.simulator ? 'vLLM simulator' : 'vLLM';
  if (detection.version === null) {
    return {
      id: 'vllm',
      title,
      status: input.absentIs,
      detail: `${what} not found: ${detection.detail}`,
      fix:
        input.absentIs === 'warning'
          ? 'Install vLLM (pip install vllm) to serve models here; not needed for runtime external.'
          : 'Install vLLM (pip install vllm) in this environment, or set server.executable to the vllm of your virtualenv.',
    };
  }
  const version = detection.version;
  const rules =
    `reasoning flags: ${enableReasoningRequired(version) ? '--enable-reasoning --reasoning-parser' : '--reasoning-parser'}; ` +
    `reasoning field: ${reasoningFields(version).join(' + ')}`;
  const detail = `${what} ${version.raw} (${detection.detail}); ${rules}`;
  const pin = input.vllmVersionPin === null ? null : parseVersion(input.vllmVersionPin);
  if (input.vllmVersionPin !== null && (pin === null || compareVersions(pin, version) !== 0)) {
    return {
      id: 'vllm',
      title,
      status: 'warning',
      detail: `${detail}; but server.vllm_version pins "${input.vllmVersionPin}", and the flags follow the pin`,
      fix: `Set server.vllm_version to ${version.raw}, or remove it to detect the version at each run.`,
    };
  }
  if (compareVersions(version, SUPPORTED_FROM) < 0) {
    return {
      id: 'vllm',
      title,
      status: 'warning',
      detail: `${detail}; evalrig supports vLLM ${SUPPORTED_FROM.raw} and later (Qwen3 needs 0.8.5)`,
      fix: 'Upgrade vLLM: pip install -U vllm.',
    };
  }
  return ok('vllm', title, detail);
}

/**
 * The plan's reasoning parser and extra args against the vLLM that will run (the pin wins, as at run time):
 * what evalrig will change (a warning: better fixed in the plan) or what vLLM would reject (an error).
 */
export function checkServeFlags(input: PreflightInput, facts: HostFacts): CheckResult | null {
  const { vllm } = input.needs;
  if (vllm === 'none') return null;
  const pinned = input.vllmVersionPin === null ? null : parseVersion(input.vllmVersionPin);
  // Only a vLLM of this host could be asked for its version.
  const version = pinned ?? (vllm === 'this-host' ? (facts.vllm?.version ?? null) : null);
  // Without a version the vLLM check already says what is wrong.
  if (version === null) return null;
  const title = 'vLLM flags';
  const rendered = renderVersionedServeFlags({
    reasoningParser: input.reasoningParser ?? undefined,
    extraArgs: input.extraArgs,
    version,
  });
  const against = `for vLLM ${formatVersion(version)}`;
  if (rendered.errors.length > 0) {
    return {
      id: 'vllm-flags',
      title,
      status: 'error',
      detail: rendered.errors.join(' '),
      fix: `Change server.reasoning_parser / server.extra_args as said; the run stops on this ${against}.`,
    };
  }
  if (rendered.notices.length > 0) {
    return {
      id: 'vllm-flags',
      title,
      status: 'warning',
      detail: rendered.notices.join(' '),
      fix: `The run adjusts the flags itself; edit the plan (or upgrade vLLM) to silence this ${against}.`,
    };
  }
  if (rendered.reasoningFlags.length === 0) return null;
  return ok('vllm-flags', title, `${rendered.reasoningFlags.join(' ')} ${against}`);
}
