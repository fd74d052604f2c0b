import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pythonPackageVersionSnippet, runProbe, type ProbeResult } from '../util/probe.js';
import { parseVersion, type Version } from '../util/pep440.js';

export type VllmDetection =
  | { version: Version; source: 'pinned' | 'cli' | 'python'; detail: string }
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
  signal?: AbortSignal;
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
 * Finds the vLLM version: the plan's pin, else `vllm --version` (from v0.6.5, vLLM PR #10369), else the package
 * metadata through Python (any version). Never throws: a missing binary gives `version: null` and the reason.
 */
export async function detectVllmVersion(options: DetectOptions): Promise<VllmDetection> {
  if (options.pinned !== undefined) {
    const pinned = parseVersion(options.pinned);
    if (pinned)
      return { version: pinned, source: 'pinned', detail: `pinned by server.vllm_version: ${pinned.raw}` };
    return {
      version: null,
      detail: `server.vllm_version "${options.pinned}" is not a version such as 0.9.2 or 0.10.1.1`,
    };
  }
  const probe = { env: options.env, cwd: options.cwd, timeoutMs: options.timeoutMs, signal: options.signal };

  const cli = await runProbe(options.executable, ['--version'], probe);
  const fromCli = cli.ok ? parseVersion(cli.stdout) : null;
  if (fromCli)
    return { version: fromCli, source: 'cli', detail: `${options.executable} --version: ${fromCli.raw}` };

  const python = options.python ?? defaultPython(options.executable);
  const py = await runProbe(python, ['-c', pythonPackageVersionSnippet('vllm')], probe);
  const fromPython = py.ok ? parseVersion(py.stdout) : null;
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
