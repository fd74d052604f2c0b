import { ok } from './results.js';
import { gib, GIB, MIB } from './sizes.js';
import type { CheckResult, HostFacts, PreflightInput } from './types.js';

const DISK_ERROR_BYTES = 500 * MIB;
const DISK_WARNING_BYTES = 5 * GIB;

export function checkDisk(input: PreflightInput, facts: HostFacts): CheckResult | null {
  const disk = facts.disk;
  if (input.outputDir === null || disk === null) return null;
  const title = 'Disk (outputs)';
  if (disk.notWritable) {
    return {
      id: 'disk',
      title,
      status: 'error',
      detail: `cannot write the run folder under ${disk.path} (${disk.notWritable})`,
      fix: 'Set output.dir (or --output-dir) to a folder you can write.',
    };
  }
  if (disk.availableBytes === null) {
    return {
      id: 'disk',
      title,
      status: 'warning',
      detail: `cannot measure free space at ${disk.path}: ${disk.error ?? 'unknown error'}`,
      fix: 'Check that output.dir is on a writable disk.',
    };
  }
  const shown = `${gib(disk.availableBytes)} free at ${disk.path}`;
  const fix = 'Free some space or set output.dir to a larger disk.';
  if (disk.availableBytes < DISK_ERROR_BYTES)
    return { id: 'disk', title, status: 'error', detail: `${shown}: runs write logs and predictions`, fix };
  if (disk.availableBytes < DISK_WARNING_BYTES)
    return { id: 'disk', title, status: 'warning', detail: `${shown}: under 5 GiB`, fix };
  return ok('disk', title, shown);
}
