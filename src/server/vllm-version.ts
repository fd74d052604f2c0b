import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pythonPackageVersionSnippet, runProbe, type ProbeResult } from '../host/probe.js';

/**
 * Everything evalrig knows about how vLLM changed between versions, in one place. Each rule names the first
 * release with the change and the evidence for it; `/work/shared/reference/facts.md` (§1, §3, §8) and
 * `reference/vllm-wire/README.md` (§0, §6) hold the quoted material. PR and issue numbers are in vllm-project/vllm.
 *
 * Dev builds compare as their base version (0.10.2.dev378 counts as 0.10.2): a dev build of a release named below
 * may predate the change, so pin `server.vllm_version` when that matters.
 */

export interface VllmVersion {
  major: number;
  minor: number;
  patch: number;
  /**
   * Release segments after the patch, e.g. `[1]` for 0.10.1.1 (a real vLLM release); usually empty. Optional so
   * that a version written as a literal need not spell it out.
   */
  more?: readonly number[];
  /** The text it was read from, e.g. `0.10.2.dev378+g4d7fe40fc.d20250829`. */
  raw: string;
}

/**
 * PEP 440 as vLLM (and EvalScope) publish it: 0.8.5, 0.10.1.1, 0.8.5.post1, 0.11.0rc1,
 * 0.10.2.dev378+g4d7fe40fc.d20250829, 0.10.1+gptoss. The only version pattern in evalrig: whatever reads a
 * version goes through `parseVllmVersion`.
 */
const VERSION_LINE =
  /^v?(\d+)\.(\d+)(?:\.(\d+))?((?:\.\d+)*)(?:[.-]?(?:post|dev|rc|a|b)\d*)*(?:\+[0-9A-Za-z.]+)?$/;

/**
 * Reads a vLLM version from `vllm --version` or from a Python one-liner. `import vllm` may log lines to stdout
 * before the version (facts §8: `INFO 04-16 21:06:25 [__init__.py:243] No platform detected, …`), so the last line
 * that is a version wins.
 */
export function parseVllmVersion(text: string): VllmVersion | null {
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  for (const line of lines.reverse()) {
    const match = VERSION_LINE.exec(line);
    if (match) {
      const more = (match[4] ?? '').split('.').slice(1).map(Number);
      return {
        major: Number(match[1]),
        minor: Number(match[2]),
        patch: Number(match[3] ?? 0),
        ...(more.length > 0 ? { more } : {}),
        raw: line,
      };
    }
  }
  return null;
}

function releaseSegments(version: VllmVersion): number[] {
  return [version.major, version.minor, version.patch, ...(version.more ?? [])];
}

/**
 * Negative when a is older than b, 0 when the same release, positive when newer. Every release segment counts
 * (0.10.1.1 is newer than 0.10.1, and 0.10.1.0 is 0.10.1, as in PEP 440); suffixes are ignored.
 */
export function compareVersions(a: VllmVersion, b: VllmVersion): number {
  const left = releaseSegments(a);
  const right = releaseSegments(b);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

/** `0.9.2`, or `version unknown`: reads well after "vLLM ". */
export function formatVersion(version: VllmVersion | null): string {
  return version ? version.raw : 'version unknown';
}

function release(text: string): VllmVersion {
  const version = parseVllmVersion(text);
  if (!version) throw new Error(`not a version: ${text}`);
  return version;
}

/** A change in vLLM: the first release that has it, and why we believe so. */
export interface VersionRule {
  since: VllmVersion;
  evidence: string;
}

export const VLLM_RULES = {
  enableReasoningDeprecated: {
    since: release('0.9.0'),
    evidence:
      'The 0.9 `--help` text: "[DEPRECATED] The `--enable-reasoning` flag is deprecated as of v0.9.0 … will be removed in ' +
      'v0.10.0. When `--reasoning-parser` is specified, reasoning mode is automatically enabled." (facts §3.3)',
  },
  enableReasoningRemoved: {
    since: release('0.10.0'),
    evidence:
      '`vllm: error: unrecognized arguments: --enable-reasoning`, exit 2, on 0.10.0 (issue #18538; gpustack issue #2616; ' +
      'vllm-wire §6)',
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
      '(2025-10) predates it, the v0.11.2 docs describe both (vllm-wire §0, §3c). 0.11.1 is inferred from the merge date.',
  },
  reasoningContentRemoved: {
    since: release('0.16.0'),
    evidence:
      'PR #33402 (merged 2026-01-30) removed `reasoning_content`; the v0.16.0 release notes list the removal, and ' +
      'ai-dynamo PR #6614 found `DeltaMessage.reasoning_content` gone in 0.16.0. 0.17.x emits only `reasoning` (vllm-wire §3d).',
  },
} as const satisfies Record<string, VersionRule>;

/** An unknown version gets the newest rules: that is what a fresh `pip install vllm` gives. */
function hasChange(version: VllmVersion | null, rule: VersionRule): boolean {
  return version === null || compareVersions(version, rule.since) >= 0;
}

/** vLLM accepts `--enable-reasoning` (up to 0.9.x; deprecated on 0.9). */
export function supportsEnableReasoning(version: VllmVersion | null): boolean {
  return !hasChange(version, VLLM_RULES.enableReasoningRemoved);
}

/** Up to 0.8.x a reasoning parser only takes effect together with `--enable-reasoning`. */
export function enableReasoningRequired(version: VllmVersion | null): boolean {
  return !hasChange(version, VLLM_RULES.enableReasoningDeprecated);
}

function hasQwen3ReasoningParser(version: VllmVersion | null): boolean {
  return hasChange(version, VLLM_RULES.qwen3ReasoningParser);
}

export interface ParserChoice {
  parser: string;
  notice?: string;
}

/**
 * The parser to pass for the one requested. Before 0.9.0 there is no `qwen3`; `deepseek_r1` splits Qwen3's
 * `<think>…</think>` too (the Qwen3 guides for 0.8.5 use it), with one known flaw: with `enable_thinking: false`
 * the answer can land in `reasoning_content` while `content` is null (issue #17349, vllm-wire §2b).
 */
export function reasoningParserFor(requested: string, version: VllmVersion | null): ParserChoice {
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
export function reasoningFields(version: VllmVersion | null): ReasoningField[] {
  if (hasChange(version, VLLM_RULES.reasoningContentRemoved)) return ['reasoning'];
  if (hasChange(version, VLLM_RULES.reasoningFieldAdded)) return ['reasoning', 'reasoning_content'];
  return ['reasoning_content'];
}

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
  version: VllmVersion | null;
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
    // facts §3.3: up to 0.8.5 the flag must be paired with a parser.
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

export type VllmDetection =
  | { version: VllmVersion; source: 'pinned' | 'cli' | 'python'; detail: string }
  | { version: null; detail: string };

export interface DetectOptions {
  /** `server.executable`, already resolved against the plan folder. */
  executable: string;
  /** Interpreter for the fallback; default: the `python` beside the executable when it is a path, else `python3`. */
  python?: string;
  /** `server.vllm_version`: when given, no process is started. */
  pinned?: string;
  env?: Readonly<Record<string, string | undefined>>;
  cwd?: string;
  timeoutMs?: number;
}

function defaultPython(executable: string): string {
  if (executable.includes('/')) {
    const sibling = join(dirname(executable), 'python');
    if (existsSync(sibling)) return sibling;
  }
  return 'python3';
}

function whyNoVersion(result: ProbeResult): string {
  if (!result.ok) return result.message;
  const shown = result.stdout.trim().split('\n').at(-1) ?? '';
  return `printed no version${shown ? ` (last line: ${shown.slice(0, 120)})` : ''}`;
}

/**
 * Finds the vLLM version: the plan's pin, else `vllm --version` (from v0.6.5, facts §3.1), else the package
 * metadata through Python (any version). Never throws: a missing binary gives `version: null` and the reason.
 */
export async function detectVllmVersion(options: DetectOptions): Promise<VllmDetection> {
  if (options.pinned !== undefined) {
    const pinned = parseVllmVersion(options.pinned);
    if (pinned)
      return { version: pinned, source: 'pinned', detail: `pinned by server.vllm_version: ${pinned.raw}` };
    return {
      version: null,
      detail: `server.vllm_version "${options.pinned}" is not a version such as 0.9.2 or 0.10.1.1`,
    };
  }
  const probe = { env: options.env, cwd: options.cwd, timeoutMs: options.timeoutMs };

  const cli = await runProbe(options.executable, ['--version'], probe);
  const fromCli = cli.ok ? parseVllmVersion(cli.stdout) : null;
  if (fromCli)
    return { version: fromCli, source: 'cli', detail: `${options.executable} --version: ${fromCli.raw}` };

  const python = options.python ?? defaultPython(options.executable);
  const py = await runProbe(python, ['-c', pythonPackageVersionSnippet('vllm')], probe);
  const fromPython = py.ok ? parseVllmVersion(py.stdout) : null;
  if (fromPython) {
    return {
      version: fromPython,
      source: 'python',
      detail: `${python}: vllm ${fromPython.raw} (package metadata)`,
    };
  }
  const pythonWhy = py.ok
    ? whyNoVersion(py)
    : py.output.includes('PackageNotFoundError')
      ? 'vllm is not installed'
      : py.message;
  return {
    version: null,
    detail: `${options.executable} --version: ${whyNoVersion(cli)}; ${python}: ${pythonWhy}`,
  };
}
