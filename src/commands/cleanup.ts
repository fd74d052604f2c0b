import { ExitCode, UserError } from '../errors.js';
import Docker from 'dockerode';
import { engineAddress, engineConfigured, engineUnreachableMessage } from '../server/docker/client.js';
import {
  judgeEvalrigContainers,
  removeEvalrigContainer,
  type EvalrigContainer,
  type Judgement,
} from '../server/docker/leftovers.js';
import { findOrphanServers, stopOrphanServer } from '../server/local/records.js';
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

function describe(container: EvalrigContainer): string {
  const run = [
    container.plan && `plan ${container.plan}`,
    container.runId && `run ${container.runId}`,
  ].filter(Boolean);
  return `${container.name} (${container.status}; ${[...run, container.image].join(', ')})`;
}

/** Local vLLM process groups whose evalrig is gone; returns whether one could not be stopped. */
async function cleanLocalServers(act: boolean, graceSeconds: number): Promise<boolean> {
  const orphans = findOrphanServers();
  if (orphans.length === 0) {
    console.log('No leftover local vLLM processes.');
    return false;
  }
  console.log(`Local vLLM process groups whose evalrig is gone (${orphans.length}):`);
  for (const { record } of orphans)
    console.log(
      `  group ${record.pgid}: ${record.command} (run ${record.run_dir}, started ${record.started_at})`,
    );
  if (!act) {
    console.log('Dry run: nothing was stopped. Run `evalrig cleanup --yes` to stop them.');
    return false;
  }
  const results = await Promise.all(orphans.map((orphan) => stopOrphanServer(orphan, graceSeconds * 1000)));
  for (const result of results) console.log(`  ${result.detail}`);
  return results.some((result) => !result.stopped);
}

function printGroup(title: string, judgements: Judgement[]): void {
  if (judgements.length === 0) return;
  console.log(title);
  for (const { container, reason } of judgements) console.log(`  ${describe(container)}: ${reason}`);
}

export const cleanupCommand: Command = {
  name: 'cleanup',
  summary: 'remove the vLLM containers left behind by crashed or killed runs',
  help: HELP,
  async run(args) {
    const { values } = parseCommandArgs('cleanup', HELP, args, OPTIONS, false);
    const grace = parseGrace(values.grace);
    const localFailed = await cleanLocalServers(values.yes === true, grace);
    if (!engineConfigured()) {
      console.log(
        'No Docker engine here (DOCKER_HOST is not set and /var/run/docker.sock does not exist): no containers, nothing to clean.',
      );
      return localFailed ? ExitCode.runFailed : ExitCode.ok;
    }
    const client = new Docker();
    let judgements: Judgement[];
    try {
      judgements = await judgeEvalrigContainers(client);
    } catch (error) {
      throw new UserError(engineUnreachableMessage(error), ExitCode.runFailed);
    }
    const orphans = judgements.filter((judgement) => judgement.verdict === 'orphan');
    printGroup(
      'Still in use by a running evalrig (left alone):',
      judgements.filter((j) => j.verdict === 'owned'),
    );
    printGroup(
      'Started from another host, not ours to judge (left alone):',
      judgements.filter((j) => j.verdict === 'foreign'),
    );
    if (orphans.length === 0) {
      console.log(`No leftover evalrig containers on ${engineAddress()}.`);
      return ExitCode.ok;
    }
    printGroup(`Leftovers of runs whose evalrig is gone (${orphans.length}):`, orphans);
    if (!values.yes) {
      console.log('Dry run: nothing was removed. Run `evalrig cleanup --yes` to stop and remove them.');
      return ExitCode.ok;
    }
    const removals = await Promise.all(
      orphans.map(({ container }) => removeEvalrigContainer(client, container, grace)),
    );
    for (const removal of removals) {
      console.log(
        `  ${removal.container.name}: ${removal.removed ? 'stopped and removed' : `NOT removed: ${removal.detail}`}`,
      );
    }
    const failed = removals.filter((removal) => !removal.removed).length;
    if (failed > 0) {
      console.log(
        `${failed} container(s) could not be removed: try \`docker rm -f <name>\` and check the engine's log.`,
      );
      return ExitCode.runFailed;
    }
    console.log(`Removed ${removals.length} leftover container(s).`);
    return ExitCode.ok;
  },
};
