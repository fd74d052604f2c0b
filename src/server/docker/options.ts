import { basename, isAbsolute, resolve } from 'node:path';
import type Dockerode from 'dockerode';
import type { ServerSpec } from '../../plan/schema.js';
import { BYTE_SIZE_PATTERN, type DockerSpec, type VolumeSpec } from '../../plan/docker-schema.js';
import { SECRET_NAME } from '../../plan/secrets.js';
import { buildEngineFlags, buildServerEnv } from '../../vllm/argv.js';
import { maskSecretFlags } from '../../plan/secrets.js';
import { expandHome } from '../../util/paths.js';
import { shellQuote } from '../../util/shell-quote.js';

/**
 * Plan → Docker create options, with no I/O: everything that depends on the machine (home folder, which paths
 * exist, the host name, the owning pid) comes in as input, so the whole mapping is unit-tested.
 */

/** Labels every evalrig container carries; `evalrig cleanup` finds leftovers by them. */
export const LABELS = {
  managed: 'evalrig.managed',
  runId: 'evalrig.run-id',
  ownerPid: 'evalrig.owner-pid',
  ownerHost: 'evalrig.owner-host',
  plan: 'evalrig.plan',
} as const;

/** Where the model folder is mounted inside the container: /models/<folder name>. */
export const MODELS_DIR_IN_CONTAINER = '/models';

/** Host caches worth reusing between runs (downloads, torch.compile and CUDA graph artefacts). */
export const CACHE_FOLDERS = ['huggingface', 'modelscope', 'vllm'] as const;

export interface VolumeMount {
  host: string;
  container: string;
  readOnly: boolean;
}

export interface MountPlan {
  mounts: VolumeMount[];
  /** `--model` as the container sees it: /models/<name> for a mounted folder, else the plan's value (a hub id). */
  modelInContainer: string;
}

export interface MountEnvironment {
  /** Folder of the plan file: relative host paths resolve against it. */
  planDir: string;
  homeDir: string;
  pathExists: (path: string) => boolean;
}

export interface ContainerInput {
  runId: string;
  planName: string;
  /** The evalrig process that owns the container; `cleanup` removes it once this pid is gone. */
  ownerPid: number;
  /** os.hostname() of the owner: a pid means nothing on another machine sharing the engine. */
  ownerHost: string;
  /** Address the port is published on (the plan's server.host). */
  hostIp: string;
  /** Published host port; undefined lets Docker choose a free one (read back from inspect after start). */
  hostPort?: number;
  reasoningFlags?: string[];
  modelInContainer: string;
  mounts: VolumeMount[];
}

const UNIT_POWERS: Record<string, number> = { '': 0, k: 1, m: 2, g: 3, t: 4 };

/** `16g` → 17179869184, as Docker reads sizes (binary units). */
export function parseByteSize(text: string): number {
  const match = BYTE_SIZE_PATTERN.exec(text.trim());
  if (!match) throw new Error(`not a size: "${text}" (write e.g. 16g, 512m or a number of bytes)`);
  const [, amount = '0', unit = ''] = match;
  return Math.round(Number(amount) * 1024 ** (UNIT_POWERS[unit.toLowerCase()] ?? 0));
}

function resolveHostPath(path: string, environment: MountEnvironment): string {
  const expanded = expandHome(path, environment.homeDir);
  return isAbsolute(expanded) ? expanded : resolve(environment.planDir, expanded);
}

/** A plan volume (either notation) as a mount with an absolute host path. */
export function normalizeVolume(volume: VolumeSpec, environment: MountEnvironment): VolumeMount {
  if (typeof volume !== 'string') {
    return {
      host: resolveHostPath(volume.host, environment),
      container: volume.container,
      readOnly: volume.read_only,
    };
  }
  const [host = '', container = '', mode] = volume.split(':');
  return { host: resolveHostPath(host, environment), container, readOnly: mode === 'ro' };
}

function pathWithin(path: string, folder: string): string | undefined {
  if (path === folder) return '';
  const prefix = folder.endsWith('/') ? folder : folder + '/';
  return path.startsWith(prefix) ? path.slice(prefix.length) : undefined;
}

/**
 * The plan's volumes plus the automatic ones: the model folder read-only at /models/<name> when server.model is
 * a folder on this host (unless a plan volume already covers it), and the caches that exist.
 */
export function planDockerMounts(
  server: ServerSpec,
  docker: DockerSpec,
  environment: MountEnvironment,
): MountPlan {
  const mounts = docker.volumes.map((volume) => normalizeVolume(volume, environment));
  const model = server.model ?? '';
  let modelInContainer = model;

  const modelOnHost = model ? resolveHostPath(model, environment) : '';
  if (model && environment.pathExists(modelOnHost)) {
    const covering = mounts.find((mount) => pathWithin(modelOnHost, mount.host) !== undefined);
    if (covering) {
      const rest = pathWithin(modelOnHost, covering.host) ?? '';
      modelInContainer = rest ? `${covering.container.replace(/\/$/, '')}/${rest}` : covering.container;
    } else {
      modelInContainer = `${MODELS_DIR_IN_CONTAINER}/${basename(modelOnHost)}`;
      mounts.push({ host: modelOnHost, container: modelInContainer, readOnly: true });
    }
  }

  if (docker.mount_caches) {
    for (const folder of CACHE_FOLDERS) {
      const host = `${environment.homeDir}/.cache/${folder}`;
      const container = `/root/.cache/${folder}`;
      const taken = mounts.some((mount) => mount.container === container);
      if (!taken && environment.pathExists(host)) mounts.push({ host, container, readOnly: false });
    }
  }
  return { mounts, modelInContainer };
}

/** `docker run --gpus` as device requests: the same request the Docker CLI sends (driver chosen by capability). */
export function gpuDeviceRequests(gpus: DockerSpec['gpus']): Dockerode.DeviceRequest[] {
  if (gpus === 'none') return [];
  const request = { Driver: '', Capabilities: [['gpu']], Options: {} };
  if (gpus === 'all') return [{ ...request, Count: -1 }];
  if (typeof gpus === 'number') return [{ ...request, Count: gpus }];
  return [{ ...request, Count: 0, DeviceIDs: gpus.map(String) }];
}

/** Docker rejects names outside [a-zA-Z0-9][a-zA-Z0-9_.-]*; run ids are close to that already. */
/**
 * `<prefix>-<run id>-<owner pid>`: run ids are timestamps, so two evalrig processes started in the same second
 * (different output folders) would otherwise ask for the same name.
 */
export function containerName(prefix: string, runId: string, ownerPid: number): string {
  return `${prefix}-${runId.replace(/[^A-Za-z0-9_.-]/g, '-')}-${ownerPid}`;
}

/** Docker's PortBindings; @types/dockerode leaves it untyped. */
type PortBindings = Record<string, { HostIp: string; HostPort: string }[]>;

/**
 * The create options for the vLLM container. The image's entrypoint starts the OpenAI server, so Cmd is only the
 * engine arguments (`--model … --port …`), never `serve`. vLLM binds 0.0.0.0 inside the container and the port
 * is published on server.host only; with `network: host` there is no publishing and vLLM binds server.host itself.
 */
export function buildContainerCreateOptions(
  server: ServerSpec,
  docker: DockerSpec,
  input: ContainerInput,
): Dockerode.ContainerCreateOptions {
  const hostNetwork = docker.network === 'host';
  let enginePort = docker.container_port;
  if (hostNetwork) {
    if (input.hostPort === undefined) {
      throw new Error(
        'network host needs a concrete host port (choose a free one before building the options)',
      );
    }
    enginePort = input.hostPort;
  }
  const cmd = [
    '--model',
    input.modelInContainer,
    ...buildEngineFlags(server, {
      port: enginePort,
      host: hostNetwork ? input.hostIp : '0.0.0.0',
      model: input.modelInContainer,
      reasoningFlags: input.reasoningFlags,
    }),
  ];
  // The plan's server environment (CUDA_VISIBLE_DEVICES included, container-relative) under docker.env.
  const environment = { ...buildServerEnv(server), ...docker.env };
  const portKey = `${docker.container_port}/tcp`;
  const portBindings: PortBindings = {
    [portKey]: [
      { HostIp: input.hostIp, HostPort: input.hostPort === undefined ? '' : String(input.hostPort) },
    ],
  };
  const ipcMode = docker.ipc ?? (docker.shm_size === undefined ? 'host' : 'private');

  return {
    name: containerName(docker.name_prefix, input.runId, input.ownerPid),
    Image: docker.image,
    Cmd: cmd,
    Env: Object.entries(environment).map(([name, value]) => `${name}=${value}`),
    Labels: {
      [LABELS.managed]: 'true',
      [LABELS.runId]: input.runId,
      [LABELS.ownerPid]: String(input.ownerPid),
      [LABELS.ownerHost]: input.ownerHost,
      [LABELS.plan]: input.planName,
    },
    ...(docker.user === undefined ? {} : { User: docker.user }),
    ...(hostNetwork ? {} : { ExposedPorts: { [portKey]: {} } }),
    // `docker stop` by hand then waits as long as evalrig would.
    StopTimeout: Math.ceil(server.stop_timeout),
    HostConfig: {
      // No tini: vLLM (PID 1 through the image's exec-form entrypoint) handles SIGTERM itself and shuts its
      // engine-core workers down; an init in between would only forward the signal.
      Init: false,
      // evalrig removes the container itself, after reading the exit code and OOM flag from inspect.
      AutoRemove: false,
      IpcMode: ipcMode,
      ...(docker.shm_size === undefined ? {} : { ShmSize: parseByteSize(docker.shm_size) }),
      DeviceRequests: gpuDeviceRequests(docker.gpus),
      // Mounts rather than Binds: a missing host folder is an error instead of a silently created empty one.
      Mounts: input.mounts.map((mount) => ({
        Type: 'bind',
        Source: mount.host,
        Target: mount.container,
        ReadOnly: mount.readOnly,
      })),
      ...(hostNetwork ? {} : { PortBindings: portBindings }),
      ExtraHosts: docker.extra_hosts,
      ...(docker.network === undefined ? {} : { NetworkMode: docker.network }),
    },
  };
}

function maskEnvEntry(entry: string): string {
  const eq = entry.indexOf('=');
  const name = eq < 0 ? entry : entry.slice(0, eq);
  return SECRET_NAME.test(name) ? `${name}=***` : entry;
}

/** The create options as `docker run` would spell them: option pairs, image and command, secrets masked. */
interface DockerRunParts {
  options: [flag: string, value: string][];
  image: string;
  command: string[];
}

function dockerRunParts(create: Dockerode.ContainerCreateOptions, withLabels: boolean): DockerRunParts {
  const host = create.HostConfig ?? {};
  const options: [string, string][] = [['--name', create.name ?? '']];
  if (withLabels)
    for (const [name, value] of Object.entries(create.Labels ?? {}))
      options.push(['--label', `${name}=${value}`]);
  for (const request of host.DeviceRequests ?? []) {
    // The CLI reads --gpus as CSV, so a device list needs its own quotes: --gpus '"device=0,1"'.
    const gpus = request.DeviceIDs
      ? `"device=${request.DeviceIDs.join(',')}"`
      : request.Count === -1
        ? 'all'
        : String(request.Count);
    options.push(['--gpus', gpus]);
  }
  if (host.IpcMode) options.push(['--ipc', host.IpcMode]);
  if (host.ShmSize !== undefined) options.push(['--shm-size', String(host.ShmSize)]);
  if (host.NetworkMode) options.push(['--network', host.NetworkMode]);
  if (create.User) options.push(['--user', create.User]);
  const portBindings = (host.PortBindings ?? {}) as PortBindings;
  for (const [containerPort, bindings] of Object.entries(portBindings)) {
    for (const binding of bindings) {
      options.push(['-p', `${binding.HostIp}:${binding.HostPort}:${containerPort.replace(/\/tcp$/, '')}`]);
    }
  }
  for (const mount of host.Mounts ?? []) {
    options.push(['-v', `${mount.Source}:${mount.Target}${mount.ReadOnly ? ':ro' : ''}`]);
  }
  for (const entry of (host.ExtraHosts ?? []) as string[]) options.push(['--add-host', entry]);
  for (const entry of create.Env ?? []) options.push(['-e', maskEnvEntry(entry)]);
  if (create.StopTimeout !== undefined) options.push(['--stop-timeout', String(create.StopTimeout)]);
  return { options, image: create.Image ?? '', command: maskSecretFlags(create.Cmd ?? []) };
}

/**
 * The equivalent `docker run` argv, secrets masked: the handle's displayArgv (the "started:" line and the
 * manifest). evalrig's bookkeeping labels are left out there; describeContainer shows them.
 */
export function dockerRunArgv(create: Dockerode.ContainerCreateOptions): string[] {
  const parts = dockerRunParts(create, false);
  return ['docker', 'run', ...parts.options.flat(), parts.image, ...parts.command];
}

/** `--dry-run` text: the container as a `docker run` command to paste, one option per line, secrets masked. */
export function describeContainer(create: Dockerode.ContainerCreateOptions): string {
  const parts = dockerRunParts(create, true);
  const lines = [
    'docker run',
    ...parts.options.map(([flag, value]) => `  ${flag} ${shellQuote(value)}`),
    `  ${[parts.image, ...parts.command].map(shellQuote).join(' ')}`,
  ];
  return lines.join(' \\\n');
}
