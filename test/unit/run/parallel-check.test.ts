import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { hostClashes, hostHasGpus, type CellOnHost } from '../../../src/run/parallel-check.js';
import { FIXTURES } from '../../paths.js';

const FAKE_NVIDIA_SMI = join(FIXTURES, 'nvidia-smi', 'fake-nvidia-smi');
const withGpus = { hasGpus: true };

const cell = (
  name: string,
  gpus: CellOnHost['needs']['gpus'],
  port: number | 'auto' = 'auto',
  portOnHost = true,
): CellOnHost => ({
  name,
  server: { host: '127.0.0.1', port },
  needs: { gpus, vllm: 'this-host', modelOnHost: true, portOnHost },
});

describe('hostClashes', () => {
  it('names the variants that would share GPUs, listed or all of them, in one warning', () => {
    expect(
      hostClashes(
        [
          cell('a', { selection: '0,1' }),
          cell('b', { selection: '1, 2' }),
          cell('c', { selection: '3' }),
          cell('d', { selection: '4' }),
        ],
        withGpus,
      ),
    ).toEqual([
      'matrix variants a, b may run at once on the same GPUs: give each its own with server.cuda_visible_devices per variant, or make them fit together with server.gpu_memory_utilization',
    ]);
    expect(hostClashes([cell('a', { selection: null }), cell('b', { selection: '3' })], withGpus)).toEqual([
      expect.stringMatching(/^matrix variants a, b may run at once on the same GPUs/),
    ]);
    expect(hostClashes([cell('a', { selection: '0' }), cell('b', { selection: '1' })], withGpus)).toEqual([]);
  });

  it('names a fixed port variants would bind on this host, never auto or a port elsewhere', () => {
    const [zero, one, two] = [{ selection: '0' }, { selection: '1' }, { selection: '2' }];
    expect(
      hostClashes([cell('a', zero, 8000), cell('b', one, 8000), cell('c', two, 8001)], withGpus),
    ).toEqual([
      'matrix variants a, b may run at once on the same port 127.0.0.1:8000: only one can bind it; set server.port: auto, or one port per variant',
    ]);
    expect(hostClashes([cell('a', zero), cell('b', one)], withGpus)).toEqual([]);
    const elsewhere = { notApplicable: 'on a Slurm node' };
    expect(
      hostClashes([cell('a', elsewhere, 8000, false), cell('b', elsewhere, 8000, false)], withGpus),
    ).toEqual([]);
  });

  it('on a host without GPUs there are none to share: only the port clash is said', () => {
    const all = { selection: null };
    expect(hostClashes([cell('a', all, 8000), cell('b', all, 8000)], { hasGpus: false })).toEqual([
      expect.stringMatching(/^matrix variants a, b may run at once on the same port 127\.0\.0\.1:8000/),
    ]);
    expect(hostClashes([cell('a', all), cell('b', all)], { hasGpus: false })).toEqual([]);
  });
});

describe('hostHasGpus', () => {
  beforeAll(() => chmodSync(FAKE_NVIDIA_SMI, 0o755));

  it('is true when nvidia-smi lists a GPU, false without nvidia-smi, driver or device', async () => {
    const scenario = (name: string) => ({ ...process.env, FAKE_NVIDIA_SMI_SCENARIO: name });
    expect(await hostHasGpus({ nvidiaSmi: FAKE_NVIDIA_SMI, env: scenario('two-gpus') })).toBe(true);
    expect(await hostHasGpus({ nvidiaSmi: FAKE_NVIDIA_SMI, env: scenario('no-gpu') })).toBe(false);
    expect(await hostHasGpus({ nvidiaSmi: FAKE_NVIDIA_SMI, env: scenario('driver-not-loaded') })).toBe(false);
    expect(await hostHasGpus({ nvidiaSmi: join(FIXTURES, 'no-such-nvidia-smi') })).toBe(false);
  });
});
