import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { defaultCacheDir } from '../../util/paths.js';
import {
  groupAlive,
  processStartedAt,
  runningSince,
  START_TIME_SLACK_MS,
  terminateGroup,
} from '../process-group.js';

/**
 * Every local vLLM evalrig starts is recorded here until its teardown is verified. If evalrig itself is killed
 * with SIGKILL (the OOM killer, a CI timeout), no handler runs and vLLM keeps the GPU; the record lets
 * `evalrig cleanup` find that orphaned process group later, as labels do for containers.
 */
export interface LocalServerRecord {
  pgid: number;
  owner_pid: number;
  host: string;
  started_at: string;
  run_dir: string;
  command: string;
  /** The GPUs it was given (CUDA_VISIBLE_DEVICES); null: all of them. Absent in records of older evalrigs. */
  gpus?: string | null;
}

export interface OrphanServer {
  record: LocalServerRecord;
  file: string;
}

function registryDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(defaultCacheDir(env), 'servers');
}

/** Record a started server; returns the function that forgets it (after a verified stop). */
export function registerLocalServer(
  record: LocalServerRecord,
  env: NodeJS.ProcessEnv = process.env,
): () => void {
  const dir = registryDir(env);
  const file = join(dir, `${record.host}-${record.pgid}.json`);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, JSON.stringify(record, null, 2) + '\n');
  } catch {
    // A read-only home must not stop a run; only the crash recovery is lost.
    return () => undefined;
  }
  return () => rmSync(file, { force: true });
}

/**
 * Whether the group is still the one recorded: a group that ended on its own may see its number reused by an
 * unrelated process, which must never be signalled. Its leader, when alive, must predate the record.
 */
function sameGroup(record: LocalServerRecord): boolean {
  const leaderStart = processStartedAt(record.pgid);
  return leaderStart === null || leaderStart.getTime() <= Date.parse(record.started_at) + START_TIME_SLACK_MS;
}

function readRecords(env: NodeJS.ProcessEnv): OrphanServer[] {
  let names: string[];
  try {
    names = readdirSync(registryDir(env)).filter((name) => name.endsWith('.json'));
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const file = join(registryDir(env), name);
    try {
      return [{ record: JSON.parse(readFileSync(file, 'utf8')) as LocalServerRecord, file }];
    } catch {
      return [];
    }
  });
}

export interface RecordedServer extends OrphanServer {
  /** Whether the evalrig that started it still runs (then it is that run's server, not a leftover). */
  ownerAlive: boolean;
}

/**
 * Server groups of this host that still run, with whether their evalrig does. Records of groups that are gone
 * are deleted on the way (their run ended without a verified stop, but nothing is left).
 */
export function findRecordedServers(env: NodeJS.ProcessEnv = process.env): RecordedServer[] {
  const host = hostname();
  return readRecords(env).flatMap(({ record, file }) => {
    if (record.host !== host) return [];
    const ownerAlive = runningSince(record.owner_pid, new Date(record.started_at));
    if (groupAlive(record.pgid) && sameGroup(record)) return [{ record, file, ownerAlive }];
    if (!ownerAlive) rmSync(file, { force: true });
    return [];
  });
}

/** SIGTERM the orphan's group, SIGKILL after the grace, verify, and forget it when gone. */
export async function stopOrphanServer(
  orphan: OrphanServer,
  graceMs: number,
): Promise<{ stopped: boolean; detail: string }> {
  const { pgid } = orphan.record;
  const { gone } = await terminateGroup(pgid, graceMs);
  if (gone) rmSync(orphan.file, { force: true });
  return {
    stopped: gone,
    detail: gone ? 'stopped' : `survived SIGKILL (ps -g ${pgid})`,
  };
}
