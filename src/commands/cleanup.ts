import { ExitCode, UserError } from '../errors.js';
import { parseCommandArgs, type Command } from './command.js';

const HELP = `Usage: evalrig cleanup [--yes] [--grace SECONDS]

Find what evalrig runs left behind when evalrig itself was killed (SIGKILL, the OOM killer, a CI timeout):
local vLLM process groups and vLLM containers whose evalrig process is gone, which nothing else will ever stop.
Lists them by default; --yes stops them (and removes the containers). Servers of runs still in progress, and
containers started from other hosts sharing this Docker engine, are listed and left alone.

Options:
  --yes              stop and remove the leftovers (default: only list them)
  --grace SECONDS    how long vLLM may take to stop after SIGTERM before it is killed (default 10)
  -h, --help         show this help

The engine is the one DOCKER_HOST names, else /var/run/docker.sock.`;

const DEFAULT_GRACE_SECONDS = 10;

const OPTIONS = {
  yes: { type: 'boolean', short: 'y' },
  grace: { type: 'string' },
} as const;

function parseGrace(text: string | undefined): number {
  if (text === undefined) return DEFAULT_GRACE_SECONDS;
  const seconds = Number(text);
  if (!Number.isInteger(seconds) || seconds < 0) {
    throw new UserError(`evalrig cleanup: --grace wants a whole number of seconds, not "${text}"`);
  }
  return seconds;
}

export const cleanupCommand: Command = {
  name: 'cleanup',
  summary: 'stop the vLLM servers and containers left behind by killed runs',
  help: HELP,
  async run(args) {
    const { values } = parseCommandArgs('cleanup', HELP, args, OPTIONS, false);
    const { cleanupLeftovers } = await import('../server/leftovers/sweep.js');
    const allStopped = await cleanupLeftovers({
      act: values.yes === true,
      graceMs: parseGrace(values.grace) * 1000,
      print: (line) => console.log(line),
    });
    return allStopped ? ExitCode.ok : ExitCode.runFailed;
  },
};
