import { describe, expect, it } from 'vitest';
import { hostClashes, type CellOnHost } from '../../../src/run/parallel-check.js';

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
      hostClashes([
        cell('a', { selection: '0,1' }),
        cell('b', { selection: '1, 2' }),
        cell('c', { selection: '3' }),
        cell('d', { selection: '4' }),
      ]),
    ).toEqual([
      'matrix variants a, b may run at once on the same GPUs: give each its own with server.cuda_visible_devices per variant, or make them fit together with server.gpu_memory_utilization',
    ]);
    expect(hostClashes([cell('a', { selection: null }), cell('b', { selection: '3' })])).toEqual([
      expect.stringMatching(/^matrix variants a, b may run at once on the same GPUs/),
    ]);
    expect(hostClashes([cell('a', { selection: '0' }), cell('b', { selection: '1' })])).toEqual([]);
  });

  it('names a fixed port variants would bind on this host, never auto or a port elsewhere', () => {
    const [zero, one, two] = [{ selection: '0' }, { selection: '1' }, { selection: '2' }];
    expect(hostClashes([cell('a', zero, 8000), cell('b', one, 8000), cell('c', two, 8001)])).toEqual([
      'matrix variants a, b may run at once on the same port 127.0.0.1:8000: only one can bind it; set server.port: auto, or one port per variant',
    ]);
    expect(hostClashes([cell('a', zero), cell('b', one)])).toEqual([]);
    const elsewhere = { notApplicable: 'on a Slurm node' };
    expect(hostClashes([cell('a', elsewhere, 8000, false), cell('b', elsewhere, 8000, false)])).toEqual([]);
  });
});
