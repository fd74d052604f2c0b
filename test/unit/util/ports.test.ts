import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort, portIsFree, probePort } from '../../../src/util/ports.js';
import { FIXTURES } from '../../paths.js';

const FAKE_NVIDIA_SMI = join(FIXTURES, 'nvidia-smi', 'fake-nvidia-smi');

let dir: string;

function executable(path: string, body: string): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

beforeAll(() => {
  chmodSync(FAKE_NVIDIA_SMI, 0o755);
  dir = mkdtempSync(join(tmpdir(), 'evalrig-doctor-'));
  executable(join(dir, 'venv', 'bin', 'vllm'), '[ "$1" = "--version" ] && echo 0.9.2');
  executable(join(dir, 'sim', 'bin', 'vllm'), '[ "$1" = "--version" ] && echo 0.10.1');
  mkdirSync(join(dir, 'models', 'tiny'), { recursive: true });
  writeFileSync(join(dir, 'models', 'tiny', 'config.json'), '{}');
  writeFileSync(join(dir, 'models', 'tiny', 'model.safetensors'), Buffer.alloc(4096));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('ports', () => {
  it('findFreePort gives a port nothing listens on, which can then be bound', async () => {
    const port = await findFreePort('127.0.0.1');
    expect(port).toBeGreaterThan(0);
    expect(await portIsFree('127.0.0.1', port)).toBe(true);
    const server: Server = createServer();
    await new Promise<void>((listening) =>
      server.listen({ port, host: '127.0.0.1', exclusive: true }, listening),
    );
    try {
      expect(await probePort('127.0.0.1', port)).toEqual({
        host: '127.0.0.1',
        port,
        status: 'in-use',
        detail: 'EADDRINUSE',
      });
      expect(await portIsFree('127.0.0.1', port)).toBe(false);
    } finally {
      await new Promise<void>((closed) => server.close(() => closed()));
    }
  });

  it('probePort: an address that is not this machine is unavailable', async () => {
    // 192.0.2.0/24 is TEST-NET-1: never assigned to a local interface.
    expect(await probePort('192.0.2.1', 8000)).toMatchObject({
      status: 'unavailable',
      detail: 'EADDRNOTAVAIL',
    });
  });
});
