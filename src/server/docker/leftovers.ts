import { hostname } from 'node:os';
import Docker from 'dockerode';
import { ExitCode, UserError } from '../../errors.js';
import { dockerErrorMessage, dockerStatus, engineUnreachableMessage } from './client.js';
import { engineAddress } from './engine.js';
import { LABELS } from './options.js';
import { processStartedAt, START_TIME_SLACK_MS } from '../process-group.js';
import type { Leftover } from '../runtime.js';

/**
 * Leftover containers of crashed or killed runs. Every evalrig container carries the pid and host name of the
 * evalrig process that owns it; when that process is gone, nothing will ever stop the container (and its GPU
 * memory stays taken), so `evalrig cleanup` removes it.
 */

export interface EvalrigContainer {
  id: string;
  name: string;
  image: string;
  /** Docker's state (running, exited, created…) and its human text ("Up 5 minutes"). */
  state: string;
  status: string;
  runId: string;
  plan: string;
  ownerPid: number;
  ownerHost: string;
  createdAt: Date;
}

/**
 * orphan: the owner process is gone; owned: a live evalrig still owns it; foreign: started from another host
 * sharing this engine, whose processes cannot be checked from here ("not ours to judge").
 */
export type Verdict = 'orphan' | 'owned' | 'foreign';

export interface Judgement {
  container: EvalrigContainer;
  verdict: Verdict;
  reason: string;
}

export interface OwnerCheck {
  host: string;
  /** When the process with this pid started, or null when no such process exists. */
  processStartedAt: (pid: number) => Date | null;
}

/**
 * Whether the container's owner still runs. A pid can be reused after the owner died: a process with that pid
 * that started after the container was created cannot be its owner.
 */
export function judgeContainer(container: EvalrigContainer, check: OwnerCheck): Judgement {
  if (container.ownerHost !== check.host) {
    return {
      container,
      verdict: 'foreign',
      reason: `owned by a process on ${container.ownerHost || 'an unknown host'}`,
    };
  }
  const startedAt = check.processStartedAt(container.ownerPid);
  if (startedAt === null) {
    return { container, verdict: 'orphan', reason: `owner pid ${container.ownerPid} is gone` };
  }
  if (startedAt.getTime() > container.createdAt.getTime() + START_TIME_SLACK_MS) {
    return {
      container,
      verdict: 'orphan',
      reason: `owner pid ${container.ownerPid} is gone (the pid now belongs to a newer process)`,
    };
  }
  return { container, verdict: 'owned', reason: `owner pid ${container.ownerPid} is running` };
}

function fromSummary(summary: Docker.ContainerInfo): EvalrigContainer {
  const labels = summary.Labels ?? {};
  return {
    id: summary.Id,
    name: (summary.Names[0] ?? summary.Id).replace(/^\//, ''),
    image: summary.Image,
    state: summary.State,
    status: summary.Status,
    runId: labels[LABELS.runId] ?? '',
    plan: labels[LABELS.plan] ?? '',
    ownerPid: Number(labels[LABELS.ownerPid] ?? NaN),
    ownerHost: labels[LABELS.ownerHost] ?? '',
    createdAt: new Date(summary.Created * 1000),
  };
}

/** Every evalrig container on the engine, running or not. Throws when the engine cannot be reached. */
export async function listEvalrigContainers(
  client: Docker,
  filterLabels: string[] = [],
): Promise<EvalrigContainer[]> {
  const summaries = await client.listContainers({
    all: true,
    filters: { label: [`${LABELS.managed}=true`, ...filterLabels] },
  });
  return summaries.map(fromSummary);
}

/** Every evalrig container with a verdict on its owner, judged from this host. */
export async function judgeEvalrigContainers(client: Docker): Promise<Judgement[]> {
  const check: OwnerCheck = { host: hostname(), processStartedAt };
  return (await listEvalrigContainers(client)).map((container) => judgeContainer(container, check));
}

export interface Removal {
  container: EvalrigContainer;
  removed: boolean;
  detail: string;
}

/** Stops (SIGTERM, then SIGKILL after the grace) and removes a container with its anonymous volumes; verifies. */
export async function removeEvalrigContainer(
  client: Docker,
  container: EvalrigContainer,
  graceSeconds: number,
): Promise<Removal> {
  const handle = client.getContainer(container.id);
  const notes: string[] = [];
  try {
    await handle.stop({ t: graceSeconds });
  } catch (error) {
    // 304: not running; 404: already removed.
    const status = dockerStatus(error);
    if (status !== 304 && status !== 404) notes.push(`stop failed: ${dockerErrorMessage(error)}`);
  }
  try {
    await handle.remove({ v: true, force: true });
  } catch (error) {
    if (dockerStatus(error) !== 404) notes.push(`remove failed: ${dockerErrorMessage(error)}`);
  }
  try {
    await handle.inspect();
    return { container, removed: false, detail: notes.join('; ') || 'still present after removal' };
  } catch (error) {
    if (dockerStatus(error) === 404) return { container, removed: true, detail: 'removed' };
    return { container, removed: false, detail: `could not verify: ${dockerErrorMessage(error)}` };
  }
}

/** Engine API calls of the search and the clean-up: an engine that hangs must not hang `plan` or `cleanup`. */
const ENGINE_TIMEOUT_MS = 15_000;

function describeContainer(container: EvalrigContainer): string {
  const run = [
    container.plan && `plan ${container.plan}`,
    container.runId && `run ${container.runId}`,
  ].filter(Boolean);
  return `${container.status}; ${[...run, container.image].join(', ')}`;
}

/** evalrig's containers on the engine DOCKER_HOST names, judged by their owner labels. */
export async function findLeftoverContainers(): Promise<Leftover[]> {
  let judgements: Judgement[];
  try {
    judgements = await judgeEvalrigContainers(new Docker({ timeout: ENGINE_TIMEOUT_MS }));
  } catch (error) {
    throw new UserError(engineUnreachableMessage(error), ExitCode.runFailed);
  }
  return judgements.map(({ container, verdict, reason }) => ({
    name: container.name,
    detail: describeContainer(container),
    verdict,
    reason,
    async stop(graceMs: number) {
      const client = new Docker({ timeout: graceMs + ENGINE_TIMEOUT_MS });
      const removal = await removeEvalrigContainer(client, container, Math.ceil(graceMs / 1000));
      return {
        stopped: removal.removed,
        detail: removal.removed
          ? 'stopped and removed'
          : `${removal.detail}; try \`docker rm -f ${container.name}\` on ${engineAddress()}`,
      };
    },
  }));
}
