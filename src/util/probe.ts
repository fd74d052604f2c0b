export interface ProbeOptions {
  /** Variables added to the current environment (as the server itself would get them). */
  env?: Readonly<Record<string, string | undefined>>;
  cwd?: string;
  /** A tool that hangs (a broken driver, a Python import stuck on a lock) must not hang the preflight. */
  timeoutMs?: number;
  /** The command's interruption: the probe is killed, so nothing outlives a Ctrl-C. */
  signal?: AbortSignal;
}

export type ProbeFailure = {
  ok: false;
  /** `not-found`: no such command (spawn ENOENT); `not-runnable`: exists but cannot be executed (EACCES). */
  reason: 'not-found' | 'not-runnable' | 'timeout' | 'exit';
  exitCode: number | null;
  /** stdout and stderr of the failed run, trimmed. */
  output: string;
  /** One line for people: the command and what went wrong. */
  message: string;
};

export type ProbeResult = { ok: true; stdout: string; stderr: string } | ProbeFailure;

const DEFAULT_TIMEOUT_MS = 20_000;

/** Runs a short command (argument array, no shell) and reports what happened; never throws. */
export async function runProbe(
  command: string,
  args: readonly string[],
  options: ProbeOptions = {},
): Promise<ProbeResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // Loaded on the first probe: commands that start no process (--help, a pinned version) do without it.
  const { execa } = await import('execa');
  // In a process group of its own, so that a time-out or an interruption ends the whole tool: a wrapper script's
  // children would otherwise live on, holding our pipes open.
  const child = execa(command, args, {
    env: options.env,
    extendEnv: true,
    cwd: options.cwd,
    reject: false,
    stdin: 'ignore',
    detached: true,
  });
  const killGroup = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  };
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, timeoutMs);
  options.signal?.addEventListener('abort', killGroup, { once: true });
  const result = await child;
  clearTimeout(timer);
  options.signal?.removeEventListener('abort', killGroup);
  const shown = [command, ...args].join(' ');
  if (!result.failed) return { ok: true, stdout: result.stdout, stderr: result.stderr };
  const output = [result.stdout, result.stderr]
    .filter((text) => text.trim() !== '')
    .join('\n')
    .trim();
  if (result.code === 'ENOENT') {
    return {
      ok: false,
      reason: 'not-found',
      exitCode: null,
      output,
      message: `${command}: command not found`,
    };
  }
  if (result.code === 'EACCES') {
    return {
      ok: false,
      reason: 'not-runnable',
      exitCode: null,
      output,
      message: `${command}: permission denied (not executable)`,
    };
  }
  if (timedOut) {
    return {
      ok: false,
      reason: 'timeout',
      exitCode: null,
      output,
      message: `${shown}: no answer within ${timeoutMs / 1000} s`,
    };
  }
  const exitCode = result.exitCode ?? null;
  const lastLine = output.split('\n').at(-1) ?? '';
  const status = exitCode === null ? `ended by ${result.signal ?? 'a signal'}` : `exited with ${exitCode}`;
  return {
    ok: false,
    reason: 'exit',
    exitCode,
    output,
    message: `${shown} ${status}${lastLine ? `: ${lastLine}` : ''}`,
  };
}

/**
 * A `python -c` program printing an installed package's version from its metadata: the cheapest reliable way,
 * since it does not `import` the package (`import vllm` is slow and logs to stdout; docs/vllm-versions.md §1.2). A package that
 * is not installed raises `PackageNotFoundError`.
 */
export function pythonPackageVersionSnippet(name: string): string {
  return `import importlib.metadata as m; print(m.version(${JSON.stringify(name)}))`;
}
