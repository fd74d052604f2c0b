import { describe, expect, it } from 'vitest';
import { DockerSpecSchema, isUnpinnedImage } from '../../../../src/plan/docker-schema.js';
import { PlanSchema } from '../../../../src/plan/schema.js';
import { judgeContainer, type EvalrigContainer } from '../../../../src/server/docker/leftovers.js';
import { PullTracker, pullFailureHint } from '../../../../src/server/docker/image.js';
import {
  buildContainerCreateOptions,
  containerName,
  describeContainer,
  dockerRunArgv,
  gpuDeviceRequests,
  parseByteSize,
  planDockerMounts,
  type ContainerInput,
  type MountEnvironment,
} from '../../../../src/server/docker/options.js';
import { describeDockerServer } from '../../../../src/server/docker/describe.js';
import { exitInfoFromStatus } from '../../../../src/server/docker/start.js';
import { tutorialServeFlags } from '../../helpers.js';

const MODEL = '/root/autodl-tmp/Qwen/Qwen3-8B';

function plan(server: Record<string, unknown> = {}, docker: Record<string, unknown> = {}) {
  const parsed = PlanSchema.parse({
    name: 'qwen3-8b-docker',
    server: {
      runtime: 'docker',
      model: MODEL,
      served_model_name: 'Qwen3-8B',
      max_model_len: 8192,
      reasoning_parser: 'qwen3',
      env: { VLLM_USE_MODELSCOPE: 'true' },
      ...server,
      docker: { image: 'vllm/vllm-openai:v0.11.0', ...docker },
    },
    evals: [{ name: 'e', backend: 'native', dataset: 'iquiz', dataset_path: 'd' }],
  });
  const { docker: spec } = parsed.server;
  if (!spec) throw new Error('the plan has no docker section');
  return { server: parsed.server, docker: spec };
}

const input: ContainerInput = {
  runId: '20261128-061200',
  planName: 'qwen3-8b-docker',
  ownerPid: 4242,
  ownerHost: 'gpu-box',
  hostIp: '127.0.0.1',
  hostPort: 18000,
  modelInContainer: '/models/Qwen3-8B',
  mounts: [],
};

/** A host where only the given paths exist. */
function environment(existing: string[]): MountEnvironment {
  return { planDir: '/plans', homeDir: '/home/me', pathExists: (path) => existing.includes(path) };
}

describe('GPU device requests (as `docker run --gpus` sends them)', () => {
  const gpu = { Driver: '', Capabilities: [['gpu']], Options: {} };

  it('all GPUs: count -1', () => {
    expect(gpuDeviceRequests('all')).toEqual([{ ...gpu, Count: -1 }]);
  });

  it('a count', () => {
    expect(gpuDeviceRequests(2)).toEqual([{ ...gpu, Count: 2 }]);
  });

  it('device ids and UUIDs, as strings', () => {
    expect(gpuDeviceRequests([0, 'GPU-3f2c'])).toEqual([{ ...gpu, Count: 0, DeviceIDs: ['0', 'GPU-3f2c'] }]);
  });

  it('none: no request at all', () => {
    expect(gpuDeviceRequests('none')).toEqual([]);
  });

  it('defaults to all GPUs', () => {
    const { server, docker } = plan();
    expect(buildContainerCreateOptions(server, docker, input).HostConfig?.DeviceRequests).toEqual([
      { ...gpu, Count: -1 },
    ]);
  });
});

describe('container create options', () => {
  it('runs the engine arguments only: the image entrypoint is the server', () => {
    const { server, docker } = plan();
    const options = buildContainerCreateOptions(server, docker, input);
    expect(options.Image).toBe('vllm/vllm-openai:v0.11.0');
    expect(options.Cmd).toEqual(['--model', '/models/Qwen3-8B', ...tutorialServeFlags('0.0.0.0')]);
    expect(options.Cmd).not.toContain('serve');
    expect(options.Entrypoint).toBeUndefined();
  });

  it('publishes the container port on 127.0.0.1 by default', () => {
    const { server, docker } = plan();
    const options = buildContainerCreateOptions(server, docker, input);
    expect(options.ExposedPorts).toEqual({ '8000/tcp': {} });
    expect(options.HostConfig?.PortBindings).toEqual({
      '8000/tcp': [{ HostIp: '127.0.0.1', HostPort: '18000' }],
    });
  });

  it('publishes on a custom host and container port; no host port lets Docker choose', () => {
    const { server, docker } = plan({}, { container_port: 9000 });
    const options = buildContainerCreateOptions(server, docker, {
      ...input,
      hostIp: '10.0.0.5',
      hostPort: undefined,
    });
    expect(options.Cmd).toContain('9000');
    expect(options.HostConfig?.PortBindings).toEqual({ '9000/tcp': [{ HostIp: '10.0.0.5', HostPort: '' }] });
  });

  it('with network host: no publishing, vLLM binds the plan host and the chosen port itself', () => {
    const { server, docker } = plan({}, { network: 'host' });
    const options = buildContainerCreateOptions(server, docker, input);
    expect(options.HostConfig?.NetworkMode).toBe('host');
    expect(options.HostConfig?.PortBindings).toBeUndefined();
    expect(options.ExposedPorts).toBeUndefined();
    expect(options.Cmd?.join(' ')).toContain('--host 127.0.0.1 --port 18000');
    expect(() => buildContainerCreateOptions(server, docker, { ...input, hostPort: undefined })).toThrow(
      /concrete host port/,
    );
  });

  it('labels the container as evalrig-owned, with run, owner pid, host and plan, and names it after the run', () => {
    const { server, docker } = plan();
    const options = buildContainerCreateOptions(server, docker, input);
    expect(options.name).toBe('evalrig-20261128-061200-4242');
    expect(options.Labels).toEqual({
      'evalrig.managed': 'true',
      'evalrig.run-id': '20261128-061200',
      'evalrig.owner-pid': '4242',
      'evalrig.owner-host': 'gpu-box',
      'evalrig.plan': 'qwen3-8b-docker',
    });
  });

  it('uses the name prefix and makes odd run ids valid container names', () => {
    expect(containerName('nightly', '2026/11/28 06:12', 77)).toBe('nightly-2026-11-28-06-12-77');
  });

  it('shares the host IPC namespace by default; shm_size gives a private one of that size', () => {
    const host = buildContainerCreateOptions(plan().server, plan().docker, input).HostConfig;
    expect(host?.IpcMode).toBe('host');
    expect(host?.ShmSize).toBeUndefined();
    const { server, docker } = plan({}, { shm_size: '16g' });
    const privateIpc = buildContainerCreateOptions(server, docker, input).HostConfig;
    expect(privateIpc?.IpcMode).toBe('private');
    expect(privateIpc?.ShmSize).toBe(16 * 1024 ** 3);
  });

  it('rejects shm_size together with ipc host, where it would do nothing', () => {
    const result = DockerSpecSchema.safeParse({ image: 'i:1', ipc: 'host', shm_size: '8g' });
    expect(result.success).toBe(false);
  });

  it('passes env from server.env and docker.env (docker wins), user, extra hosts, stop timeout; no init', () => {
    const { server, docker } = plan(
      { env: { VLLM_USE_MODELSCOPE: 'true', A: 'server' }, stop_timeout: 45 },
      {
        env: { A: 'docker', HF_TOKEN: 'hf_secret_value' },
        user: '1000:1000',
        extra_hosts: ['registry.local:10.0.0.9'],
      },
    );
    const options = buildContainerCreateOptions(server, docker, input);
    expect(options.Env).toEqual(['VLLM_USE_MODELSCOPE=true', 'A=docker', 'HF_TOKEN=hf_secret_value']);
    expect(options.User).toBe('1000:1000');
    expect(options.HostConfig?.ExtraHosts).toEqual(['registry.local:10.0.0.9']);
    expect(options.StopTimeout).toBe(45);
    expect(options.HostConfig?.Init).toBe(false);
    expect(options.HostConfig?.AutoRemove).toBe(false);
  });

  it('parses sizes as Docker does (binary units)', () => {
    expect(parseByteSize('512m')).toBe(512 * 1024 ** 2);
    expect(parseByteSize('1GB')).toBe(1024 ** 3);
    expect(parseByteSize('1073741824')).toBe(1073741824);
    expect(() => parseByteSize('lots')).toThrow(/not a size/);
  });
});

describe('mounts', () => {
  it('mounts a local model folder read-only at /models/<name>, and the caches that exist', () => {
    const { server, docker } = plan();
    const mounts = planDockerMounts(
      server,
      docker,
      environment([MODEL, '/home/me/.cache/huggingface', '/home/me/.cache/vllm']),
    );
    expect(mounts.modelInContainer).toBe('/models/Qwen3-8B');
    expect(mounts.mounts).toEqual([
      { host: MODEL, container: '/models/Qwen3-8B', readOnly: true },
      { host: '/home/me/.cache/huggingface', container: '/root/.cache/huggingface', readOnly: false },
      { host: '/home/me/.cache/vllm', container: '/root/.cache/vllm', readOnly: false },
    ]);
  });

  it('passes a hub id through unmounted', () => {
    const { server, docker } = plan({ model: 'Qwen/Qwen3-8B' }, { mount_caches: false });
    expect(planDockerMounts(server, docker, environment([]))).toEqual({
      mounts: [],
      modelInContainer: 'Qwen/Qwen3-8B',
    });
  });

  it('takes both volume notations, resolving relative and ~ paths', () => {
    const { server, docker } = plan(
      { model: 'Qwen/Qwen3-8B' },
      {
        mount_caches: false,
        volumes: ['./data:/data:ro', '~/work:/work', { host: '/srv/x', container: '/x', read_only: true }],
      },
    );
    expect(planDockerMounts(server, docker, environment([])).mounts).toEqual([
      { host: '/plans/data', container: '/data', readOnly: true },
      { host: '/home/me/work', container: '/work', readOnly: false },
      { host: '/srv/x', container: '/x', readOnly: true },
    ]);
  });

  it('uses a plan volume that already holds the model folder instead of mounting it again', () => {
    const { server, docker } = plan({}, { mount_caches: false, volumes: ['/root/autodl-tmp:/data:ro'] });
    const mounts = planDockerMounts(server, docker, environment([MODEL]));
    expect(mounts.modelInContainer).toBe('/data/Qwen/Qwen3-8B');
    expect(mounts.mounts).toHaveLength(1);
  });

  it('becomes Mounts of type bind (a missing host folder is an error, not an empty folder)', () => {
    const { server, docker } = plan();
    const mounts = [{ host: MODEL, container: '/models/Qwen3-8B', readOnly: true }];
    expect(buildContainerCreateOptions(server, docker, { ...input, mounts }).HostConfig?.Mounts).toEqual([
      { Type: 'bind', Source: MODEL, Target: '/models/Qwen3-8B', ReadOnly: true },
    ]);
  });

  it('rejects a volume string without an absolute container path', () => {
    expect(DockerSpecSchema.safeParse({ image: 'i:1', volumes: ['/a:b'] }).success).toBe(false);
  });
});

describe('masking', () => {
  const { server, docker } = plan(
    { api_key: 'sk-local-123456' },
    { env: { HF_TOKEN: 'hf_secret_value', MODE: 'x' } },
  );
  const options = buildContainerCreateOptions(server, docker, {
    ...input,
    mounts: [{ host: MODEL, container: '/models/Qwen3-8B', readOnly: true }],
  });

  it('keeps secrets out of the displayed docker run argv (bookkeeping labels left out)', () => {
    const argv = dockerRunArgv(options).join(' ');
    expect(argv).not.toContain('--label');
    expect(argv).not.toContain('hf_secret_value');
    expect(argv).not.toContain('sk-local-123456');
    expect(argv).toContain('-e HF_TOKEN=***');
    expect(argv).toContain('-e MODE=x');
    expect(argv).toContain('-e VLLM_API_KEY=***');
    expect(argv).not.toContain('--api-key');
  });

  it('describes the container for --dry-run as a docker run command to paste', () => {
    const text = describeContainer(options);
    expect(text).not.toContain('hf_secret_value');
    expect(text).not.toContain('sk-local-123456');
    expect(text.split(' \\\n')).toEqual([
      'docker run',
      '  --name evalrig-20261128-061200-4242',
      '  --label evalrig.managed=true',
      '  --label evalrig.run-id=20261128-061200',
      '  --label evalrig.owner-pid=4242',
      '  --label evalrig.owner-host=gpu-box',
      '  --label evalrig.plan=qwen3-8b-docker',
      '  --gpus all',
      '  --ipc host',
      '  -p 127.0.0.1:18000:8000',
      `  -v ${MODEL}:/models/Qwen3-8B:ro`,
      '  -e VLLM_USE_MODELSCOPE=true',
      "  -e 'VLLM_API_KEY=***'",
      "  -e 'HF_TOKEN=***'",
      '  -e MODE=x',
      '  --stop-timeout 30',
      '  vllm/vllm-openai:v0.11.0 --model /models/Qwen3-8B --host 0.0.0.0 --port 8000 --served-model-name Qwen3-8B ' +
        '--max-model-len 8192 --reasoning-parser qwen3',
    ]);
  });

  it('quotes a device list for the CLI, which reads --gpus as CSV', () => {
    const devices = plan({}, { gpus: [0, 1] });
    expect(describeContainer(buildContainerCreateOptions(devices.server, devices.docker, input))).toContain(
      `--gpus '"device=0,1"'`,
    );
  });
});

describe('plan --dry-run for runtime docker', () => {
  it('shows the container as a docker run command: port auto left to Docker, secrets masked', () => {
    const { server } = plan(
      { model: 'Qwen/Qwen3-8B', api_key: 'sk-dry-run-key' },
      { mount_caches: false, env: { HF_TOKEN: 'hf_dry_run' } },
    );
    const text = describeDockerServer(server, { planDir: '/plans', planName: 'p', runId: 'dry-run' });
    expect(text).toContain('--name evalrig-dry-run');
    expect(text).toContain('-p 127.0.0.1::8000');
    expect(text).toContain('vllm/vllm-openai:v0.11.0 --model Qwen/Qwen3-8B --host 0.0.0.0 --port 8000');
    expect(text).not.toMatch(/sk-dry-run-key|hf_dry_run/);
  });
});

describe('image references', () => {
  it('calls latest and untagged images unpinned; tags and digests pinned', () => {
    expect(isUnpinnedImage('vllm/vllm-openai')).toBe(true);
    expect(isUnpinnedImage('vllm/vllm-openai:latest')).toBe(true);
    expect(isUnpinnedImage('localhost:5000/vllm')).toBe(true);
    expect(isUnpinnedImage('vllm/vllm-openai:v0.11.0')).toBe(false);
    expect(isUnpinnedImage('localhost:5000/vllm:v0.11.0')).toBe(false);
    expect(isUnpinnedImage('vllm/vllm-openai@sha256:abc')).toBe(false);
  });

  it('runtime docker needs docker.image', () => {
    const result = PlanSchema.safeParse({
      name: 'p',
      server: { runtime: 'docker', model: 'm' },
      evals: [{ name: 'e', backend: 'native', dataset: 'iquiz', dataset_path: 'd' }],
    });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain('docker.image');
  });
});

describe('pull progress', () => {
  it('prints a line per layer status change, not per byte tick, and sums bytes', () => {
    const tracker = new PullTracker();
    const lines = [
      tracker.update({ status: 'Pulling from vllm/vllm-openai', id: 'v0.11.0' }),
      tracker.update({ status: 'Pulling fs layer', id: 'a1' }),
      tracker.update({ status: 'Downloading', id: 'a1', progressDetail: { current: 10, total: 2_000_000 } }),
      tracker.update({
        status: 'Downloading',
        id: 'a1',
        progressDetail: { current: 500_000, total: 2_000_000 },
      }),
      tracker.update({ status: 'Already exists', id: 'b2' }),
    ];
    expect(lines).toEqual([
      'Pulling from vllm/vllm-openai',
      'a1: Pulling fs layer',
      'a1: Downloading (2.0 MB)',
      undefined,
      'b2: Already exists',
    ]);
    expect(tracker.totals()).toEqual({
      layers: 2,
      complete: 1,
      currentBytes: 500_000,
      totalBytes: 2_000_000,
    });
    tracker.update({ status: 'Pull complete', id: 'a1' });
    expect(tracker.totals()).toMatchObject({ complete: 2, currentBytes: 2_000_000 });
  });

  it('turns the engine wording of a failed pull into advice', () => {
    expect(
      pullFailureHint('pull access denied for x, repository does not exist or may require docker login'),
    ).toMatch(/docker login/);
    expect(pullFailureHint('manifest for vllm/vllm-openai:v9 not found: manifest unknown')).toMatch(
      /check the tag/,
    );
    expect(
      pullFailureHint(
        'Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host',
      ),
    ).toMatch(/docker load/);
  });
});

describe('exit status', () => {
  it('reads 128+N as signal N, as the local runtime reports it', () => {
    expect(exitInfoFromStatus(137, false)).toEqual({ code: null, signal: 'SIGKILL', oomKilled: false });
    expect(exitInfoFromStatus(1)).toEqual({ code: 1, signal: null });
    expect(exitInfoFromStatus(0, true)).toEqual({ code: 0, signal: null, oomKilled: true });
  });
});

describe('leftover containers', () => {
  const created = new Date('2026-11-28T06:00:00Z');
  const container: EvalrigContainer = {
    id: 'c1',
    name: 'evalrig-r1',
    image: 'i',
    state: 'running',
    status: 'Up',
    runId: 'r1',
    plan: 'p',
    ownerPid: 4242,
    ownerHost: 'gpu-box',
    createdAt: created,
  };

  it('an owner pid that no longer exists makes an orphan', () => {
    expect(judgeContainer(container, { host: 'gpu-box', processStartedAt: () => null }).verdict).toBe(
      'orphan',
    );
  });

  it('a live owner that started before the container keeps it', () => {
    const judgement = judgeContainer(container, {
      host: 'gpu-box',
      processStartedAt: () => new Date(created.getTime() - 60_000),
    });
    expect(judgement.verdict).toBe('owned');
  });

  it('a reused pid (a process newer than the container) is not the owner', () => {
    const judgement = judgeContainer(container, {
      host: 'gpu-box',
      processStartedAt: () => new Date(created.getTime() + 60_000),
    });
    expect(judgement).toMatchObject({ verdict: 'orphan', reason: expect.stringContaining('newer process') });
  });

  it("another host's container is not ours to judge", () => {
    expect(judgeContainer(container, { host: 'laptop', processStartedAt: () => null }).verdict).toBe(
      'foreign',
    );
  });
});
