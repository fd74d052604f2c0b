// Running programs with argument arrays (never a shell) from scripts that must work before `npm ci`, so with
// Node's own modules only.
import { spawn } from 'node:child_process';
import process from 'node:process';

const SAFE_WORD = /^[\w@%+=:,./-]+$/;

/** A command as a person would type it into a POSIX shell, quoted where needed, for printing only. */
export function shellLine(command, args = []) {
  return [command, ...args]
    .map((word) => (SAFE_WORD.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}

/**
 * Runs a program to completion. `echo` streams its output to ours as it comes; either way the last `tailLines`
 * lines of stdout and stderr together are kept for an error message. Resolves with `missing: true` when the
 * program is not there (ENOENT), instead of rejecting.
 */
export function runProgram(command, args, { cwd, env, echo = false, tailLines = 15 } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let tail = '';
    const keep = (text, target) => {
      if (echo) target.write(text);
      tail = (tail + text).slice(-64 * 1024);
      return text;
    };
    child.stdout.setEncoding('utf8').on('data', (text) => (stdout += keep(text, process.stdout)));
    child.stderr.setEncoding('utf8').on('data', (text) => (stderr += keep(text, process.stderr)));
    child.on('error', (error) =>
      resolve({ exitCode: null, stdout, stderr, lastLines: [], missing: error.code === 'ENOENT', error }),
    );
    child.on('close', (code, signal) => {
      // Progress bars redraw a line with \r: only its last drawing is worth quoting.
      const lastLines = tail
        .split('\n')
        .map((line) => line.split('\r').filter(Boolean).pop()?.trimEnd() ?? '')
        .filter(Boolean)
        .slice(-tailLines);
      resolve({ exitCode: code ?? 128, signal, stdout, stderr, lastLines, missing: false });
    });
  });
}
