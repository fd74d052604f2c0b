import { compareVersions, formatVersion, parseVersion, type Version } from '../util/pep440.js';

/**
 * Everything evalrig knows about how vLLM changed between versions, in one place. Each rule names the first
 * release with the change and the evidence for it. PR and issue numbers are in vllm-project/vllm unless another
 * repository is named; docs/vllm-versions.md (§2, §3) explains each rule.
 *
 * Dev builds compare as their base version (0.10.2.dev378 counts as 0.10.2): a dev build of a release named below
 * may predate the change, so pin `server.vllm_version` when that matters.
 */

function release(text: string): Version {
  const version = parseVersion(text);
  if (!version) throw new Error(`not a version: ${text}`);
  return version;
}

/** A change in vLLM: the first release that has it, and why we believe so. */
export interface VersionRule {
  since: Version;
  evidence: string;
}

export const VLLM_RULES = {
  enableReasoningDeprecated: {
    since: release('0.9.0'),
    evidence:
      'The 0.9 `--help` text: "[DEPRECATED] The `--enable-reasoning` flag is deprecated as of v0.9.0 … will be removed in ' +
      'v0.10.0. When `--reasoning-parser` is specified, reasoning mode is automatically enabled." (PR #17452, PR #18404)',
  },
  enableReasoningRemoved: {
    since: release('0.10.0'),
    evidence:
      '`vllm: error: unrecognized arguments: --enable-reasoning`, exit 2, on 0.10.0 (issue #18538; gpustack issue #2616; ' +
      'QwenLM/Qwen3 PR #1292)',
  },
  qwen3ReasoningParser: {
    since: release('0.9.0'),
    evidence:
      'PR #17369 registered `qwen3` on 2025-04-29, after v0.8.5 was cut; a maintainer in issue #17441: "To use this parser, ' +
      'you\'ll have to install nightly vLLM instead of v0.8.5"; v0.8.5.post1 still rejects it with a usage error (issue ' +
      '#17609). v0.10.0 docs list it.',
  },
  reasoningFieldAdded: {
    since: release('0.11.1'),
    evidence:
      'PR #27752 (opened 2025-10-29, merged 2025-11-08) added `reasoning` and kept `reasoning_content` as an alias; v0.11.0 ' +
      '(2025-10) predates it, the vLLM v0.11.2 docs (docs/features/reasoning_outputs.md) describe both. 0.11.1 is ' +
      'inferred from the merge date.',
  },
  reasoningContentRemoved: {
    since: release('0.16.0'),
    evidence:
      'PR #33402 (merged 2026-01-30) removed `reasoning_content`; the v0.16.0 release notes list the removal, and ' +
      'ai-dynamo PR #6614 found `DeltaMessage.reasoning_content` gone in 0.16.0. 0.17.x emits only `reasoning` ' +
      '(vllm-ascend issue #10940).',
  },
} as const satisfies Record<string, VersionRule>;

/** An unknown version gets the newest rules: that is what a fresh `pip install vllm` gives. */
function hasChange(version: Version | null, rule: VersionRule): boolean {
  return version === null || compareVersions(version, rule.since) >= 0;
}

/** vLLM accepts `--enable-reasoning` (up to 0.9.x; deprecated on 0.9). */
export function supportsEnableReasoning(version: Version | null): boolean {
  return !hasChange(version, VLLM_RULES.enableReasoningRemoved);
}

/** Up to 0.8.x a reasoning parser only takes effect together with `--enable-reasoning`. */
export function enableReasoningRequired(version: Version | null): boolean {
  return !hasChange(version, VLLM_RULES.enableReasoningDeprecated);
}

function hasQwen3ReasoningParser(version: Version | null): boolean {
  return hasChange(version, VLLM_RULES.qwen3ReasoningParser);
}

export interface ParserChoice {
  parser: string;
  notice?: string;
}

/**
 * The parser to pass for the one requested. Before 0.9.0 there is no `qwen3`; `deepseek_r1` splits Qwen3's
 * `<think>…</think>` too (the Qwen3 guides for 0.8.5 use it), with one known flaw: with `enable_thinking: false`
 * the answer can land in `reasoning_content` while `content` is null (issue #17349, fixed for qwen3 by PR #17369).
 */
export function reasoningParserFor(requested: string, version: Version | null): ParserChoice {
  if (requested !== 'qwen3' || hasQwen3ReasoningParser(version)) return { parser: requested };
  return {
    parser: 'deepseek_r1',
    notice:
      `vLLM ${formatVersion(version)} has no qwen3 reasoning parser (it arrived in ${VLLM_RULES.qwen3ReasoningParser.since.raw}); ` +
      'using deepseek_r1, which splits <think> the same way. With enable_thinking: false the answer may come back in ' +
      `reasoning_content with content null. Upgrade to vLLM ≥ ${VLLM_RULES.qwen3ReasoningParser.since.raw} to use qwen3.`,
  };
}

export type ReasoningField = 'reasoning' | 'reasoning_content';

/** The message/delta keys that carry reasoning text in that version, the preferred one first. */
export function reasoningFields(version: Version | null): ReasoningField[] {
  if (hasChange(version, VLLM_RULES.reasoningContentRemoved)) return ['reasoning'];
  if (hasChange(version, VLLM_RULES.reasoningFieldAdded)) return ['reasoning', 'reasoning_content'];
  return ['reasoning_content'];
}
