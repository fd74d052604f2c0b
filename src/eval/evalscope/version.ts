import { basename } from 'node:path';
import type { EvalScopeEvalSpec } from '../../plan/schema.js';
import { parseVersion, type Version } from '../../util/pep440.js';
import { pythonPackageVersionSnippet, runProbe } from '../../util/probe.js';
import { pythonOfCommand } from '../../util/python-of-executable.js';
import { executableParts } from './argv.js';
import { EvalScopeError, notInstalledFailure } from './failures.js';

/**
 * Each question to EvalScope gets this long: `evalscope --version` imports the package (and with it torch), which
 * takes seconds on a cold disk, while a wedged import must not hang a dry run.
 */
export const VERSION_PROBE_TIMEOUT_MS = 30_000;

export interface FoundVersion {
  version: Version;
  source: 'plan' | '--version' | 'package metadata';
}

export interface VersionLookup {
  /** The command's interruption: the probe in flight is killed and the lookup rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Per probe; default VERSION_PROBE_TIMEOUT_MS. */
  timeoutMs?: number;
}

/**
 * The Python that runs this EvalScope: the one named (`python -m evalscope.cli.cli`), else the one of the
 * executable's environment (its script's interpreter or the python beside it, links followed), else `python3` on
 * PATH.
 */
export function pythonOf(parts: readonly string[]): string {
  const [file = 'evalscope'] = parts;
  if (basename(file).startsWith('python')) return file;
  return pythonOfCommand(file, process.env['PATH']) ?? 'python3';
}

/**
 * The version: pinned by the plan, or `evalscope --version` (1.0 on), or the package metadata where that flag does
 * not exist yet (0.x exits 2, "unrecognized arguments").
 */
export async function findEvalScopeVersion(
  spec: EvalScopeEvalSpec,
  lookup: VersionLookup = {},
): Promise<FoundVersion> {
  if (spec.version !== undefined) {
    const pinned = parseVersion(spec.version);
    if (pinned) return { version: pinned, source: 'plan' };
  }
  const { signal } = lookup;
  const probe = { signal, timeoutMs: lookup.timeoutMs ?? VERSION_PROBE_TIMEOUT_MS };
  const [file, ...prefix] = executableParts(spec);
  const asked = await runProbe(file, [...prefix, '--version'], probe);
  // A killed probe reads as a failed one: the interruption, not the fallback, decides what happens next.
  signal?.throwIfAborted();
  if (asked.ok) {
    const version = parseVersion(/evalscope\s+(\S+)/.exec(asked.stdout)?.[1] ?? '');
    if (version) return { version, source: '--version' };
  } else if (asked.reason === 'not-found') {
    throw new EvalScopeError('EvalScope is not installed', notInstalledFailure(file));
  }
  const python = pythonOf([file, ...prefix]);
  const metadata = await runProbe(python, ['-c', pythonPackageVersionSnippet('evalscope')], probe);
  signal?.throwIfAborted();
  const version = metadata.ok ? parseVersion(metadata.stdout.trim().split('\n').at(-1) ?? '') : null;
  if (version) return { version, source: 'package metadata' };
  const why = asked.ok ? '' : ` (${asked.message})`;
  throw new EvalScopeError(
    `EvalScope's version could not be found: ${[file, ...prefix].join(' ')} --version gave none${why}, and ${python} has no evalscope package: set the eval's \`version\``,
    metadata.ok ? undefined : notInstalledFailure(file),
  );
}
