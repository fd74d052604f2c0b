import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../paths.js';
import { dockerSuite, ensureSimImage, SIM_IMAGE } from './engine.js';

const suite = await dockerSuite('docker/Dockerfile tests', 'df');
const IMAGE = 'evalrig:test';

/**
 * Runs the evalrig image to completion, as `docker run --rm IMAGE …args` would, and returns its exit code and
 * output. The container carries evalrig's labels, so a crashed test leaves nothing `evalrig cleanup` misses.
 */
async function runImage(
  args: string[],
  mounts: { host: string; container: string }[] = [],
): Promise<{ code: number; output: string }> {
  const client = new Docker();
  const runId = suite.runId();
  const container = await client.createContainer({
    Image: IMAGE,
    Cmd: args,
    Labels: {
      'evalrig.managed': 'true',
      'evalrig.run-id': runId,
      'evalrig.owner-pid': String(process.pid),
      'evalrig.owner-host': hostname(),
    },
    HostConfig: {
      Mounts: mounts.map((mount) => ({ Type: 'bind', Source: mount.host, Target: mount.container })),
    },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const logs = await container.logs({ stdout: true, stderr: true, follow: false });
    // Without a TTY the log is multiplexed: 8-byte frame headers before each chunk.
    const output = demultiplex(logs);
    return { code: StatusCode, output };
  } finally {
    await container.remove({ force: true, v: true });
  }
}

function demultiplex(buffer: Buffer): string {
  const parts: string[] = [];
  for (let offset = 0; offset + 8 <= buffer.length;) {
    const length = buffer.readUInt32BE(offset + 4);
    parts.push(buffer.subarray(offset + 8, offset + 8 + length).toString());
    offset += 8 + length;
  }
  return parts.join('');
}

describe.skipIf(suite.skip)(
  'docker/Dockerfile: evalrig packaged on a vLLM image (the simulator image as the base)',
  () => {
    beforeAll(async () => {
      await ensureSimImage();
      // The simulator image stands in for vllm/vllm-openai and for the Node image; no PyPI here, so no EvalScope.
      await execa(
        'node',
        [
          'scripts/build-evalrig-image.mjs',
          '--tag',
          IMAGE,
          '--vllm-image',
          SIM_IMAGE,
          '--node-image',
          SIM_IMAGE,
          '--with-evalscope',
          '0',
        ],
        { cwd: ROOT },
      );
    }, 300_000);

    afterAll(() => suite.removeContainers());

    it('builds, and `evalrig --version` runs in the image', async () => {
      const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string })
        .version;
      const result = await runImage(['--version']);
      expect(result).toEqual({ code: 0, output: `${version}\n` });
    });

    it('runs a whole plan inside one container with runtime local (the image provides vllm)', async () => {
      const outputs = mkdtempSync(join(tmpdir(), 'evalrig-image-outputs-'));
      const result = await runImage(
        // executable vllm: the one on the image's PATH, as with the real vllm/vllm-openai base.
        [
          'plan',
          'configs/demo.yaml',
          '--skip-preflight',
          '--set',
          'server.executable=vllm',
          '--set',
          'server.env.VLLM_SIM_LOAD_TIME=0.5',
        ],
        [{ host: outputs, container: '/opt/evalrig/outputs' }],
      );
      expect(result.code, result.output).toBe(0);
      expect(result.output).toContain('OVERALL');
      expect(result.output).toMatch(/teardown: process group \d+ exited after SIGTERM/);
      const [runDir] = readdirSync(join(outputs, 'demo'));
      expect(runDir).toBeDefined();
      expect(existsSync(join(outputs, 'demo', runDir ?? '', 'summary.json'))).toBe(true);
    });
  },
);
