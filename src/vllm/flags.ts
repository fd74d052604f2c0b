import { formatVersion, type Version } from '../util/pep440.js';
import { enableReasoningRequired, reasoningParserFor, supportsEnableReasoning, VLLM_RULES } from './rules.js';

/**
 * vLLM's FlexibleArgumentParser turns `--max_model_len` into `--max-model-len` (and `--a_b=1` into `--a-b=1`)
 * before argparse sees it; since 2025 only up to the first `.`, so JSON dot-keys such as
 * `--compilation_config.cudagraph_capture_sizes` keep their underscores after the dot (vllm `vllm/utils`
 * FlexibleArgumentParser.parse_args, old and current). Doing the same here changes nothing for vLLM and lets us
 * recognise a flag however it was spelled.
 */
export function normaliseFlagName(arg: string): string {
  if (!arg.startsWith('--') || arg === '--') return arg;
  const eq = arg.indexOf('=');
  const key = eq === -1 ? arg : arg.slice(0, eq);
  const value = eq === -1 ? '' : arg.slice(eq);
  const dot = key.indexOf('.');
  const name = dot === -1 ? key : key.slice(0, dot);
  const rest = dot === -1 ? '' : key.slice(dot);
  return `--${name.slice(2).replace(/_/g, '-')}${rest}${value}`;
}

export function normaliseFlagNames(args: readonly string[]): string[] {
  return args.map(normaliseFlagName);
}

/** The value of `--flag V` or `--flag=V` in dash-form args (the last one wins, as in argparse). */
export function readFlagValue(args: readonly string[], flag: string): string | undefined {
  let value: string | undefined;
  args.forEach((arg, index) => {
    if (arg === flag) value = args[index + 1];
    else if (arg.startsWith(`${flag}=`)) value = arg.slice(flag.length + 1);
  });
  return value;
}

interface FlagOccurrences {
  rest: string[];
  enableReasoning: boolean;
  reasoningParsers: string[];
}

/** Takes the reasoning flags out of the user's extra args, so that they appear once and in the right form. */
function takeReasoningFlags(args: readonly string[]): FlagOccurrences {
  const found: FlagOccurrences = { rest: [], enableReasoning: false, reasoningParsers: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--enable-reasoning') found.enableReasoning = true;
    else if (arg === '--reasoning-parser' && i + 1 < args.length)
      found.reasoningParsers.push(args[++i] as string);
    else if (arg.startsWith('--reasoning-parser='))
      found.reasoningParsers.push(arg.slice('--reasoning-parser='.length));
    else found.rest.push(arg);
  }
  return found;
}

export interface VersionedFlagsInput {
  /** `server.reasoning_parser` from the plan. */
  reasoningParser?: string;
  /** `server.extra_args` from the plan, as written. */
  extraArgs: readonly string[];
  version: Version | null;
}

export interface VersionedFlags {
  /** The reasoning flags for that version, e.g. `--reasoning-parser qwen3`. */
  reasoningFlags: string[];
  /** The user's extra args in dash form, without the reasoning flags (they are in `reasoningFlags`). */
  extraArgs: string[];
  /** `reasoningFlags` then `extraArgs`: the whole version-dependent tail of `vllm serve`. */
  flags: string[];
  /** What was changed or assumed, for the console: one sentence each. */
  notices: string[];
  /** Combinations that vLLM would reject: the run must not start. */
  errors: string[];
}

const DEPRECATED_IN = VLLM_RULES.enableReasoningDeprecated.since.raw;
const REMOVED_IN = VLLM_RULES.enableReasoningRemoved.since.raw;

/** The version-dependent tail of `vllm serve`: pure, so the same plan and version always give the same argv. */
export function renderVersionedServeFlags(input: VersionedFlagsInput): VersionedFlags {
  const { version } = input;
  const label = `vLLM ${formatVersion(version)}`;
  const notices: string[] = [];
  const errors: string[] = [];
  if (version === null) {
    notices.push(
      'vLLM version unknown: using the rules of the newest vLLM (reasoning via --reasoning-parser only). ' +
        'Set server.vllm_version to pin it.',
    );
  }

  const extra = takeReasoningFlags(normaliseFlagNames(input.extraArgs));
  const fromExtra = [...new Set(extra.reasoningParsers)];
  let requested = input.reasoningParser;
  if (fromExtra.length > 1) {
    errors.push(`extra_args sets --reasoning-parser more than once (${fromExtra.join(', ')}): keep one.`);
  } else if (fromExtra[0] !== undefined) {
    if (requested !== undefined && requested !== fromExtra[0]) {
      errors.push(
        `server.reasoning_parser is ${requested} but extra_args has --reasoning-parser ${fromExtra[0]}: ` +
          'remove it from extra_args and keep server.reasoning_parser.',
      );
    }
    requested ??= fromExtra[0];
  }

  const reasoningFlags: string[] = [];
  if (requested !== undefined) {
    const choice = reasoningParserFor(requested, version);
    if (choice.notice) notices.push(choice.notice);
    if (enableReasoningRequired(version)) {
      reasoningFlags.push('--enable-reasoning');
    } else if (extra.enableReasoning && supportsEnableReasoning(version)) {
      // Still accepted on 0.9.x, so the user's flag stays; it only costs a warning in vLLM's log.
      reasoningFlags.push('--enable-reasoning');
      notices.push(
        `${label}: --enable-reasoning is deprecated since ${DEPRECATED_IN} and --reasoning-parser alone enables ` +
          `reasoning; remove it from extra_args before upgrading to ${REMOVED_IN}, which rejects it.`,
      );
    }
    reasoningFlags.push('--reasoning-parser', choice.parser);
  } else if (extra.enableReasoning && enableReasoningRequired(version)) {
    // Up to 0.8.x the flag must be paired with a parser (docs/vllm-versions.md §2.1).
    errors.push(
      `${label}: --enable-reasoning needs --reasoning-parser. Set server.reasoning_parser (qwen3 for Qwen3 models) ` +
        'or remove --enable-reasoning from extra_args.',
    );
  } else if (extra.enableReasoning && supportsEnableReasoning(version)) {
    reasoningFlags.push('--enable-reasoning');
    notices.push(
      `${label}: --enable-reasoning is deprecated since ${DEPRECATED_IN} and does nothing without a reasoning ` +
        'parser; set server.reasoning_parser (qwen3 for Qwen3 models) and remove --enable-reasoning from extra_args.',
    );
  }
  if (extra.enableReasoning && !supportsEnableReasoning(version)) {
    notices.push(
      `${label}: dropped --enable-reasoning from extra_args; vLLM ${REMOVED_IN} and later ` +
        'reject it (`vllm: error: unrecognized arguments: --enable-reasoning`). --reasoning-parser alone enables reasoning.',
    );
  }
  return {
    reasoningFlags,
    extraArgs: extra.rest,
    flags: [...reasoningFlags, ...extra.rest],
    notices,
    errors,
  };
}
