import { ExitCode, UserError } from '../errors.js';
import { parseCommandArgs, type Command } from './command.js';

const HELP = `Usage: evalrig cleanup [--yes] [--grace SECONDS]

Find what evalrig runs left behind when evalrig itself was killed (SIGKILL, the OOM killer, a CI timeout):
local vLLM process groups, vLLM containers and Slurm jobs whose evalrig process is gone, which nothing else
will ever stop. Lists them by default; --yes stops them (removes the containers, cancels the jobs). Servers of
runs still in progress, and containers or jobs started from other hosts, are listed and left alone.

Every place is searched: one that does not answer (a Docker engine or a Slurm controller that is down) is a
warning saying why and what to do, and what was found elsewhere is still listed and stopped.

Options:
  --yes              stop and remove the leftovers (default: only list them)
  --grace SECONDS    how long vLLM may take to stop after SIGTERM before it is killed (default 10)
  -h, --help         show this help

Exit codes:
  0  every place was searched and nothing is left behind, or (without --yes) what is left was listed
  1  a place could not be searched, or --yes could not stop a leftover (the warnings and lines say which)
  2  the command line is invalid

The engine is the one DOCKER_HOST names, else /var/run/docker.sock; the Slurm queue is read with squeue.`;

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
  summary: 'stop the vLLM servers, containers and Slurm jobs left behind by killed runs',
  help: HELP,
  async run(args) {
    const { values } = parseCommandArgs('cleanup', HELP, args, OPTIONS, false);
    const { cleanupLeftovers } = await import('../server/leftovers/sweep.js');
    const outcome = await cleanupLeftovers({
      act: values.yes === true,
      graceMs: parseGrace(values.grace) * 1000,
      print: (line) => console.log(line),
      warn: (message) => console.error(`warning: ${message}`),
    });
    return outcome.unsearched.length > 0 || outcome.notStopped > 0 ? ExitCode.runFailed : ExitCode.ok;
  },
};
