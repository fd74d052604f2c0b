import { basename, dirname, join } from 'node:path';
import type { EvalScopeEvalSpec } from '../../plan/schema.js';
import { parseVersion, type Version } from '../../util/pep440.js';
import { pythonPackageVersionSnippet, runProbe } from '../../util/probe.js';
import { executableParts } from './argv.js';
import { EvalScopeError, notInstalledFailure } from './failures.js';

export interface FoundVersion {
  version: Version;
  source: 'plan' | '--version' | 'package metadata';
}

/**
 * The Python that runs this EvalScope: the one named (`python -m evalscope.cli.cli`), the one beside a virtual
 * environment's `bin/evalscope`, or `python3` on PATH.
 */
export function pythonOf(parts: readonly string[]): string {
  const [file = 'evalscope'] = parts;
  if (basename(file).startsWith('python')) return file;
  return file.includes('/') ? join(dirname(file), 'python') : 'python3';
}

/**
 * The version: pinned by the plan, or `evalscope --version` (1.0 on), or the package metadata where that flag does
 * not exist yet (0.x exits 2, "unrecognized arguments").
 */
export async function findEvalScopeVersion(
  spec: EvalScopeEvalSpec,
  signal?: AbortSignal,
): Promise<FoundVersion> {
  if (spec.version !== undefined) {
    const pinned = parseVersion(spec.version);
    if (pinned) return { version: pinned, source: 'plan' };
  }
  const [file, ...prefix] = executableParts(spec);
  const asked = await runProbe(file, [...prefix, '--version'], { signal });
  if (asked.ok) {
    const version = parseVersion(/evalscope\s+(\S+)/.exec(asked.stdout)?.[1] ?? '');
    if (version) return { version, source: '--version' };
  } else if (asked.reason === 'not-found') {
    throw new EvalScopeError('EvalScope is not installed', notInstalledFailure(file));
  }
  const python = pythonOf([file, ...prefix]);
  const metadata = await runProbe(python, ['-c', pythonPackageVersionSnippet('evalscope')], { signal });
  const version = metadata.ok ? parseVersion(metadata.stdout.trim().split('\n').at(-1) ?? '') : null;
  if (version) return { version, source: 'package metadata' };
  throw new EvalScopeError(
    `EvalScope's version could not be found (${[file, ...prefix].join(' ')} --version, then ${python}): set the eval's \`version\``,
    metadata.ok ? undefined : notInstalledFailure(file),
  );
}
