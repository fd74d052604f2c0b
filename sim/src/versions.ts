// Every version-dependent behaviour of the simulated vLLM lives here, derived from the
// version string by comparison. "§x" = section x of docs/vllm-versions.md, which gives the public
// source (vLLM release, PR or issue) of each rule; PR and issue numbers are vllm-project/vllm's.
// Boundaries marked "inferred" were not seen in output of that release; see also sim/README.md.

export const DEFAULT_VERSION = '0.17.1';

type Triple = readonly [number, number, number];

// X.Y.Z with an optional .postN / .devN / rcN part and an optional +local part (§1.1:
// `0.8.5.post1`, `0.10.2.dev378+g4d7fe40fc.d20250829`). Rules compare X.Y.Z only.
const VERSION_RE = /^(\d+)\.(\d+)\.(\d+)(?:\.?(?:post|dev|rc)\d+)?(?:\+[0-9A-Za-z.]+)?$/;

export function parseVersion(text: string): Triple | null {
  const m = VERSION_RE.exec(text);
  if (!m) return null;
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

function atLeast(v: Triple, major: number, minor: number, patch = 0): boolean {
  for (const [a, b] of [
    [v[0], major],
    [v[1], minor],
    [v[2], patch],
  ] as const) {
    if (a !== b) return a > b;
  }
  return true;
}

export type EnableReasoningRule = 'needs-parser' | 'deprecated' | 'removed';
export type ReasoningFields = 'reasoning_content' | 'both' | 'reasoning';
export type ContextLengthStyle = 'legacy' | 'input-tokens' | 'input-tokens-param' | 'total';

export interface VersionRules {
  readonly version: string;
  /** §2.1: valid ≤0.8.x (with --reasoning-parser), deprecated 0.9.x, unrecognized ≥0.10.0 (PR #17452, issue #18538). */
  readonly enableReasoning: EnableReasoningRule;
  /** ≤0.8.x: the parser is only used together with --enable-reasoning (§2.1, the 0.9 help text). */
  readonly parserNeedsEnableFlag: boolean;
  /**
   * §3.1, §3.2; the same boundaries as evalrig's `VLLM_RULES` (src/vllm/rules.ts), which
   * test/sim/reasoning.test.ts holds this to. `reasoning_content` only ≤0.11.0; both 0.11.1–0.15.x: vLLM PR
   * #27752 (merged 2025-11-08, after v0.11.0, whose docs show only `reasoning_content`) added `reasoning` and kept
   * `reasoning_content` as an alias, so 0.11.1 is inferred from the merge date; `reasoning` only ≥0.16.0: PR #33402
   * (merged 2026-01-30) removed `reasoning_content`, as the v0.16.0 release notes list.
   */
  readonly reasoningFields: ReasoningFields;
  /** §5.1: flat ≤0.10.0, nested ≥0.10.1 (PR #22099). */
  readonly nestedErrors: boolean;
  /** §5.2, see contextLengthMessage(). */
  readonly contextLength: ContextLengthStyle;
  /** §5.3: current code sets param "model" on 404; inferred to start with the 0.14 validation rework. */
  readonly notFoundParam: string | null;
  /** §5.4: old handler gives `BadRequestError` + a repr of the error list; newer `Bad Request` + a count (inferred 0.14). */
  readonly countedValidationErrors: boolean;
  /** §6.3: `(APIServer pid=N) ` / `(EngineCore_DP0 pid=N) ` prefixes from 0.10.1 (issue #22407, PR #21889). */
  readonly processPrefixes: boolean;
  /** §6.3: PR #36822 (Mar 2026) drops `_DP0` when DP size is 1; inferred to ship after 0.17. */
  readonly engineCoreName: string;
  /** Worker prefix names (§6.3): `Worker_TP<i>` with the new prefixes, `VllmWorker rank=<i>` before. */
  readonly workerPrefixName: (rank: number) => string;
  /** `non-default args: {...}` (inferred ≥0.9) instead of the whole `args: Namespace(...)`. */
  readonly logsNonDefaultArgs: boolean;
  /** §6.4: `Starting vLLM API server 0 on` (PR #34495; inferred from the API-server scale-out, ≥0.10). */
  readonly apiServerIndexInStartLine: boolean;
  /** §9: the response shape of 0.8.5 until 0.10.x, the 0.13 shape from 0.11 (inferred boundary). */
  readonly modernResponseShape: boolean;
  /** §8, §9: `chatcmpl-<32hex>` in 2025 releases, `chatcmpl-<16hex>` in 0.13 and 0.17.1 output. */
  readonly shortIds: boolean;
  /** §4.5: `vllm:gpu_cache_usage_perc` until 0.11 (removed by PR #29330 in 0.12). */
  readonly gpuCacheUsageMetric: boolean;
  /** §4.5: `vllm:kv_cache_usage_perc` from 0.9 (PR #18354). */
  readonly kvCacheUsageMetric: boolean;
  /** §4.5: V1 `engine="0"` label; first release not confirmed (§10), taken as 0.10.1. */
  readonly engineMetricLabel: boolean;
  /** §3.3 (issue #17349): deepseek_r1 with enable_thinking=false put the answer in reasoning_content, ≤0.9. */
  readonly deepseekNoTagsIsReasoning: boolean;
  /** `Failed core proc(s): {}` suffix (§7, issue #27508, a ≥0.10.1 log); inferred to start in 0.9. */
  readonly failedProcsSuffix: boolean;
  /** §7 (issue #34076): V1 KV-cache error with the "estimated maximum model length" hint (inferred ≥0.9). */
  readonly kvErrorEstimate: boolean;
  /** §7 (pytorch/pytorch issue #175666, 2026): `Free memory on device cuda:1 (...)`; older builds omit the device (inferred <0.11). */
  readonly freeMemoryNamesDevice: boolean;
  /** `Received request …` lines by default until 0.10.1; from 0.10.2 request logging is opt-in (--enable-log-requests, PR #21739). */
  readonly logsRequestsByDefault: boolean;
  /** `Engine 000: ` in the periodic stats line (V1 loggers, inferred ≥0.9). */
  readonly statsEnginePrefix: boolean;
  /** ModelConfig validation errors come from pydantic (§7, EvolvingLMMs-Lab/LongVT issue #9, 2025-12); inferred ≥0.10. */
  readonly pydanticConfigErrors: boolean;
  /** vllm/config.py became the vllm/config/ package (`[model.py:…]` log sites), inferred 0.11. */
  readonly configPackage: boolean;
  /** Reasoning parsers this release registers, in registration order. */
  readonly reasoningParsers: readonly string[];
}

// Registration dates are approximate (inferred from the vllm/reasoning package history); the
// two evalrig's reasoning plans rely on are firm: deepseek_r1 everywhere, qwen3 from 0.9.0.
const PARSERS: ReadonlyArray<readonly [string, Triple]> = [
  ['deepseek_r1', [0, 0, 0]],
  ['granite', [0, 0, 0]],
  ['qwen3', [0, 9, 0]],
  ['glm45', [0, 10, 0]],
  ['hunyuan_a13b', [0, 10, 0]],
  ['mistral', [0, 10, 0]],
  ['step3', [0, 10, 1]],
  ['openai_gptoss', [0, 10, 1]],
  ['seed_oss', [0, 10, 2]],
  ['deepseek_v3', [0, 11, 0]],
  ['kimi_k2', [0, 12, 0]],
  ['minimax_m2', [0, 12, 0]],
  ['minimax_m2_append_think', [0, 12, 0]],
];

export function rulesFor(version: string): VersionRules {
  const v = parseVersion(version);
  if (!v) throw new Error(`not a vLLM version: ${version}`);
  const prefixes = atLeast(v, 0, 10, 1);
  return {
    version,
    enableReasoning: atLeast(v, 0, 10) ? 'removed' : atLeast(v, 0, 9) ? 'deprecated' : 'needs-parser',
    parserNeedsEnableFlag: !atLeast(v, 0, 9),
    reasoningFields: atLeast(v, 0, 16) ? 'reasoning' : atLeast(v, 0, 11, 1) ? 'both' : 'reasoning_content',
    nestedErrors: atLeast(v, 0, 10, 1),
    contextLength: atLeast(v, 0, 18)
      ? 'total'
      : atLeast(v, 0, 14)
        ? 'input-tokens-param'
        : atLeast(v, 0, 10, 2)
          ? 'input-tokens'
          : 'legacy',
    notFoundParam: atLeast(v, 0, 14) ? 'model' : null,
    countedValidationErrors: atLeast(v, 0, 14),
    processPrefixes: prefixes,
    engineCoreName: atLeast(v, 0, 18) ? 'EngineCore' : prefixes ? 'EngineCore_DP0' : 'EngineCore_0',
    workerPrefixName: prefixes ? (rank) => `Worker_TP${rank}` : (rank) => `VllmWorker rank=${rank}`,
    logsNonDefaultArgs: atLeast(v, 0, 9),
    apiServerIndexInStartLine: atLeast(v, 0, 10),
    modernResponseShape: atLeast(v, 0, 11),
    shortIds: atLeast(v, 0, 11),
    gpuCacheUsageMetric: !atLeast(v, 0, 12),
    kvCacheUsageMetric: atLeast(v, 0, 9),
    engineMetricLabel: atLeast(v, 0, 10, 1),
    deepseekNoTagsIsReasoning: !atLeast(v, 0, 10),
    failedProcsSuffix: atLeast(v, 0, 9),
    kvErrorEstimate: atLeast(v, 0, 9),
    freeMemoryNamesDevice: atLeast(v, 0, 11),
    logsRequestsByDefault: !atLeast(v, 0, 10, 2),
    statsEnginePrefix: atLeast(v, 0, 9),
    pydanticConfigErrors: atLeast(v, 0, 10),
    configPackage: atLeast(v, 0, 11),
    reasoningParsers: PARSERS.filter(([, since]) => atLeast(v, ...since)).map(([name]) => name),
  };
}

export interface ContextLengthError {
  readonly message: string;
  readonly param: string | null;
}

/**
 * The 400 text for prompt (P) + max_tokens (M) over max_model_len (L), §5.2.
 * `maxTokens` is null when the request did not set it; vLLM then uses L − P, so only P ≥ L fails.
 */
export function contextLengthMessage(
  rules: VersionRules,
  limit: number,
  prompt: number,
  maxTokens: number | null,
): ContextLengthError {
  if (rules.contextLength === 'legacy') {
    return {
      param: null,
      message:
        maxTokens === null
          ? `This model's maximum context length is ${limit} tokens. However, you requested ${prompt} tokens in the messages, Please reduce the length of the messages.`
          : `This model's maximum context length is ${limit} tokens. However, you requested ${prompt + maxTokens} tokens (${prompt} in the messages, ${maxTokens} in the completion). Please reduce the length of the messages or completion.`,
    };
  }
  if (rules.contextLength === 'total' && maxTokens !== null) {
    // PR #36197 wording (reported for v0.22/v0.25.1); its `param` is not known from a capture.
    return {
      param: 'input_tokens',
      message: `This model's maximum context length is ${limit} tokens. However, you requested ${maxTokens} output tokens and your prompt contains ${prompt} input tokens, for a total of ${prompt + maxTokens} tokens. Please reduce the length of the input prompt or the number of requested output tokens.`,
    };
  }
  // PR #22803 wording; the ` (parameter=…, value=…)` suffix and `param` come with PR #33425's era.
  const withParam = rules.contextLength !== 'input-tokens';
  if (maxTokens === null || prompt >= limit) {
    return {
      param: withParam ? 'input_tokens' : null,
      message: `This model's maximum context length is ${limit} tokens. However, your request has ${prompt} input tokens. Please reduce the length of the input messages.${withParam ? ` (parameter=input_tokens, value=${prompt})` : ''}`,
    };
  }
  return {
    param: withParam ? 'max_tokens' : null,
    message: `'max_tokens' or 'max_completion_tokens' is too large: ${maxTokens}. This model's maximum context length is ${limit} tokens and your request has ${prompt} input tokens (${maxTokens} > ${limit} - ${prompt}).${withParam ? ` (parameter=max_tokens, value=${maxTokens})` : ''}`,
  };
}
