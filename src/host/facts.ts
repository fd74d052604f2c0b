import { constants } from 'node:fs';
import { access, readdir, realpath, stat, statfs } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { packageRoot } from '../util/package-root.js';
import { resolveExecutable } from '../util/executable.js';
import { probePort } from '../util/ports.js';
import { locateExecutable } from '../util/python-of-executable.js';
import { detectVllmVersion, type VllmDetection } from '../vllm/detect.js';
import { parseVersion } from '../util/pep440.js';
import type { DiskFacts, HostFacts, ModelFacts, PreflightInput, ToolFacts } from './checks/types.js';
import { resolvePlanPath } from './preflight-input.js';
import { queryGpus } from './nvidia-smi.js';
import { pythonPackageVersionSnippet, runProbe, type ProbeOptions } from '../util/probe.js';

/** How long a probe may take, and the interruption that kills it. */
type ProbeLimits = Pick<ProbeOptions, 'timeoutMs' | 'signal'>;

/** The I/O half of the preflight: everything `runChecks` judges is measured here, concurrently. */

export interface GatherOptions {
  /** nvidia-smi to run (tests pass a fake one). */
  nvidiaSmi?: string;
  /** Per probe; a hung driver or a slow `import` must not hang `evalrig doctor`. */
  timeoutMs?: number;
  /** The command's interruption: probes in flight are killed. */
  signal?: AbortSignal;
  /** Our environment (PATH, HOME); the plan's `server.env` is added on top for the server's tools. */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * The vLLM version detection the run made already (`detectVllmVersion` for the same plan), so that vLLM is not
   * started a second time (each try may take up to 20 s). Used when it probed vLLM (`cli`, `python`, or no version
   * found); one that only read `server.vllm_version` (`pinned`) is not, since the check compares the pin with what
   * is installed. A detection still running may be given: the other probes start at once, beside it, and only the
   * vLLM fact waits for it (undefined: it found nothing to share).
   */
  vllmDetection?: VllmDetection | Promise<VllmDetection | undefined>;
  /** Probe EvalScope even when no eval needs it (`evalrig doctor` reports its version). Default: only when needed. */
  probeEvalscope?: boolean;
}

function isInside(path: string, folder: string): boolean {
  const rel = relative(folder, path);
  return isAbsolute(path) && rel !== '' && !rel.startsWith('..');
}

/**
 * The rule for "this plan runs the simulator, so GPU checks do not apply": the executable that would run is
 * evalrig's own simulator, i.e. it is named `vllm-sim` (the npm bin), its path ends in `sim/bin/vllm` (the
 * vLLM-compatible wrapper the demo plan uses), or, once PATH and symlinks are resolved, it lives under evalrig's
 * `sim/` or `dist/sim/` folder. `VLLM_SIM_*` variables are deliberately not a signal: they do not change which
 * program starts, and a real vLLM run with a stray variable must still get its GPU checks.
 */
export function isSimulatorExecutable(paths: readonly string[], evalrigRoot: string): boolean {
  return paths.some(
    (path) =>
      basename(path) === 'vllm-sim' ||
      /(^|\/)sim\/bin\/vllm$/.test(path) ||
      isInside(path, join(evalrigRoot, 'sim')) ||
      isInside(path, join(evalrigRoot, 'dist', 'sim')),
  );
}

/** The file a command would run: a path as given, or the first match on PATH; symlinks resolved too. */
async function commandPaths(command: string, pathVariable: string | undefined): Promise<string[]> {
  const found = command.includes('/') ? command : locateExecutable(command, pathVariable);
  if (found === null) return [command];
  const real = await realpath(found).catch(() => found);
  return [command, found, real];
}

/** A Hugging Face / ModelScope id unless it is written as a path or names an existing folder (as vLLM decides). */
async function inspectModel(
  reference: string,
  baseDir: string,
  home: string | undefined,
): Promise<ModelFacts> {
  const path = resolvePlanPath(reference, baseDir, home);
  const writtenAsPath = /^(\/|\.{1,2}(\/|$)|~)/.test(reference);
  const info = await stat(path).catch(() => null);
  if (!writtenAsPath && !info?.isDirectory()) return { kind: 'hub', reference };
  const local = {
    kind: 'local' as const,
    reference,
    path,
    exists: info !== null,
    isDirectory: info?.isDirectory() ?? false,
  };
  if (!info?.isDirectory()) return { ...local, hasConfig: false, weightFiles: 0, weightBytes: 0 };
  const names = await readdir(path);
  // vLLM loads safetensors when there are any and falls back to PyTorch .bin files otherwise.
  const safetensors = names.filter((name) => name.endsWith('.safetensors'));
  const weights = safetensors.length > 0 ? safetensors : names.filter((name) => name.endsWith('.bin'));
  const sizes = await Promise.all(
    weights.map((name) =>
      stat(join(path, name)).then(
        (s) => s.size,
        () => 0,
      ),
    ),
  );
  return {
    ...local,
    hasConfig: names.includes('config.json'),
    weightFiles: weights.length,
    weightBytes: sizes.reduce((sum, size) => sum + size, 0),
  };
}

/** Free space for the output folder, measured on the nearest folder that exists already. */
async function measureDisk(outputDir: string): Promise<DiskFacts> {
  let path = outputDir;
  while (
    !(await stat(path).then(
      (s) => s.isDirectory(),
      () => false,
    ))
  ) {
    const parent = dirname(path);
    if (parent === path) break;
    path = parent;
  }
  // The run creates its folder below `path`: that needs write access there, not just free space.
  const notWritable = await access(path, constants.W_OK).then(
    () => null,
    (error: NodeJS.ErrnoException) => error.code ?? error.message,
  );
  try {
    const fs = await statfs(path);
    return { path, availableBytes: fs.bavail * fs.bsize, error: null, notWritable };
  } catch (error) {
    return { path, availableBytes: null, error: (error as Error).message, notWritable };
  }
}

/**
 * `evalscope --version` exists from 1.0 (`evalscope 1.0.0`, EvalScope's `evalscope/cli/cli.py`); older releases only
 * answer through Python (docs/vllm-versions.md §11.1).
 */
async function probeEvalscope(
  python: string,
  env: Readonly<Record<string, string | undefined>>,
  limits: ProbeLimits,
): Promise<ToolFacts> {
  const cli = await runProbe('evalscope', ['--version'], { env, ...limits });
  // The program name goes, so that `evalscope 1.0.0` is a version line like the ones vLLM prints.
  const fromCli = cli.ok ? parseVersion(cli.stdout.replace(/^\s*evalscope\s+/gim, ''))?.raw : undefined;
  if (fromCli) return { command: 'evalscope', found: true, version: fromCli, detail: 'evalscope --version' };
  const py = await runProbe(python, ['-c', pythonPackageVersionSnippet('evalscope')], { env, ...limits });
  const fromPython = py.ok ? parseVersion(py.stdout)?.raw : undefined;
  if (fromPython)
    return { command: python, found: true, version: fromPython, detail: `${python} package metadata` };
  const why = py.ok
    ? 'no version printed'
    : py.output.includes('PackageNotFoundError')
      ? `not installed for ${python}`
      : py.message;
  return {
    command: 'evalscope',
    found: false,
    version: null,
    detail: `${cli.ok ? 'evalscope --version printed no version' : cli.message}; ${why}`,
  };
}

async function probePython(
  python: string,
  env: Readonly<Record<string, string | undefined>>,
  limits: ProbeLimits,
): Promise<ToolFacts> {
  const result = await runProbe(python, ['--version'], { env, ...limits });
  if (!result.ok) return { command: python, found: false, version: null, detail: result.message };
  // Python 2 and very old 3.x print the version on stderr.
  const version = /Python\s+(\S+)/.exec(`${result.stdout}\n${result.stderr}`)?.[1] ?? null;
  return { command: python, found: true, version, detail: `${python} --version` };
}

/**
 * A detection made already, when the check may use it: one that probed vLLM. A pinned one (or, with a pin, one
 * without a version, which then came from the pin) says nothing about the vLLM installed here.
 */
function reusableDetection(detection: VllmDetection | undefined, pinned: boolean): VllmDetection | undefined {
  if (detection === undefined) return undefined;
  if (detection.version === null) return pinned ? undefined : detection;
  return detection.source === 'pinned' ? undefined : detection;
}

/** Measures everything the checks need for this input; never throws for a missing tool or GPU. */
export async function gatherHostFacts(
  input: PreflightInput,
  options: GatherOptions = {},
): Promise<HostFacts> {
  const ourEnv = options.env ?? process.env;
  const serverEnv = { ...ourEnv, ...input.env };
  const { timeoutMs, signal } = options;
  const limits: ProbeLimits = { timeoutMs, signal };
  const executable = resolveExecutable(input.executable, input.baseDir);
  const vllmOnHost = input.needs.vllm === 'this-host';
  const simulator =
    vllmOnHost && isSimulatorExecutable(await commandPaths(executable, serverEnv['PATH']), packageRoot());
  const gpusMatter = 'selection' in input.needs.gpus && !simulator;
  const python = input.python ?? 'python3';
  const evalscopeMatters = options.probeEvalscope ?? input.needsEvalscope;
  // Python runs here for a real vLLM or EvalScope; `evalrig doctor` without a plan reports it whatever runs.
  const pythonMatters = (vllmOnHost && !simulator) || evalscopeMatters || input.absentIs === 'warning';
  const vllmFacts = async (): Promise<VllmDetection> => {
    const detected = reusableDetection(await options.vllmDetection, input.vllmVersionPin !== null);
    return (
      detected ??
      detectVllmVersion({
        executable,
        python: input.python ?? undefined,
        env: serverEnv,
        cwd: input.baseDir,
        ...limits,
      })
    );
  };

  const [gpu, vllm, evalscope, pythonFacts, model, port, disk] = await Promise.all([
    gpusMatter ? queryGpus({ nvidiaSmi: options.nvidiaSmi, env: ourEnv, ...limits }) : null,
    vllmOnHost ? vllmFacts() : null,
    evalscopeMatters ? probeEvalscope(python, ourEnv, limits) : null,
    pythonMatters ? probePython(python, ourEnv, limits) : null,
    input.needs.modelOnHost && input.model !== null
      ? inspectModel(input.model, input.baseDir, ourEnv['HOME'])
      : null,
    input.needs.portOnHost && typeof input.port === 'number' ? probePort(input.host, input.port) : null,
    input.outputDir === null ? null : measureDisk(resolve(input.outputDir)),
  ]);
  return { simulator, gpu, vllm, evalscope, python: pythonFacts, model, port, disk };
}
