import { ExitCode, UserError } from '../../errors.js';
import cliProgress from 'cli-progress';
import type Docker from 'dockerode';
import { isUnpinnedImage, type DockerSpec } from '../../plan/docker-schema.js';
import { dockerErrorMessage, dockerStatus } from './client.js';

/** One JSON event of the engine's pull stream. */
export interface PullEvent {
  id?: string;
  status?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

interface LayerState {
  status: string;
  current: number;
  total: number;
}

/** Folds pull events into per-layer state: what the progress display shows. Pure, so it is unit-tested. */
export class PullTracker {
  private readonly layers = new Map<string, LayerState>();

  /** Applies one event; returns a line to print when a layer's status changed (not on every byte tick). */
  update(event: PullEvent): string | undefined {
    if (!event.status) return undefined;
    // Events without a layer id are image-level: "Pulling from …", "Digest: …", "Status: Downloaded newer image".
    if (!event.id || event.status.startsWith('Pulling from')) return event.status;
    const layer = this.layers.get(event.id) ?? { status: '', current: 0, total: 0 };
    const changed = layer.status !== event.status;
    layer.status = event.status;
    if (event.status === 'Downloading' && event.progressDetail) {
      layer.current = event.progressDetail.current ?? layer.current;
      layer.total = event.progressDetail.total ?? layer.total;
    }
    if (event.status === 'Download complete' || event.status === 'Pull complete') layer.current = layer.total;
    this.layers.set(event.id, layer);
    if (!changed) return undefined;
    const size = layer.total > 0 ? ` (${formatBytes(layer.total)})` : '';
    return `${event.id}: ${event.status}${size}`;
  }

  totals(): { layers: number; complete: number; currentBytes: number; totalBytes: number } {
    let complete = 0;
    let currentBytes = 0;
    let totalBytes = 0;
    for (const layer of this.layers.values()) {
      if (layer.status === 'Pull complete' || layer.status === 'Already exists') complete += 1;
      currentBytes += layer.current;
      totalBytes += layer.total;
    }
    return { layers: this.layers.size, complete, currentBytes, totalBytes };
  }
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** Shows pull progress: a bar over all layers' bytes in a terminal, a plain line per layer change elsewhere (CI). */
interface PullDisplay {
  event(event: PullEvent): void;
  finish(): void;
}

function pullDisplay(image: string, output: NodeJS.WriteStream): PullDisplay {
  const tracker = new PullTracker();
  if (!output.isTTY) {
    return {
      event(event) {
        const line = tracker.update(event);
        if (line) output.write(`pull ${image}: ${line}\n`);
      },
      finish() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `pull ${image} [{bar}] {percentage}% | {bytes} | layers {complete}/{layers}`,
      stream: output,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1, 0, { bytes: '', complete: 0, layers: 0 });
  return {
    event(event) {
      tracker.update(event);
      const totals = tracker.totals();
      bar.setTotal(Math.max(totals.totalBytes, 1));
      bar.update(totals.currentBytes, {
        bytes: `${formatBytes(totals.currentBytes)}/${formatBytes(totals.totalBytes)}`,
        complete: totals.complete,
        layers: totals.layers,
      });
    },
    finish() {
      bar.stop();
    },
  };
}

/** The advice that goes with a pull failure, from the engine's wording. */
export function pullFailureHint(message: string): string {
  if (/denied|unauthorized|authentication required|docker login/i.test(message)) {
    return (
      'The registry refused the pull: the name may be wrong, or the image is private. ' +
      'Log in and pull once by hand (`docker login <registry>`, `docker pull <image>`), then use `pull: missing`.'
    );
  }
  if (/manifest unknown|not found/i.test(message)) {
    return 'No such tag on the registry: check the tag (vLLM tags look like vllm/vllm-openai:v0.11.0).';
  }
  return (
    'No registry reachable from this engine. On an offline machine, save the image where a registry is reachable ' +
    '(`docker save <image> -o image.tar`), load it here (`docker load -i image.tar`) and set `pull: never`.'
  );
}

async function imageIsLocal(client: Docker, image: string): Promise<boolean> {
  try {
    await client.getImage(image).inspect();
    return true;
  } catch (error) {
    if (dockerStatus(error) === 404) return false;
    throw error;
  }
}

async function pullImage(
  client: Docker,
  image: string,
  output: NodeJS.WriteStream,
  signal?: AbortSignal,
): Promise<void> {
  signal?.throwIfAborted();
  const stream = await client.pull(image);
  const display = pullDisplay(image, output);
  // The engine reports most failures (missing tag, denied) inside the stream, after a 200: look for them.
  let streamError: string | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      // A pull of many gigabytes must not outlast a Ctrl-C: closing the stream makes the engine drop it.
      const onAbort = () => {
        (stream as NodeJS.ReadableStream & { destroy(): void }).destroy();
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      client.modem.followProgress(
        stream,
        (error: Error | null) => (error ? reject(error) : resolve()),
        (event: PullEvent) => {
          if (event.error) streamError ??= event.errorDetail?.message ?? event.error;
          else display.event(event);
        },
      );
    });
  } finally {
    display.finish();
  }
  if (streamError) throw new Error(streamError);
}

export interface EnsureImageOptions {
  /** Where pull progress goes (a bar when it is a terminal). */
  output?: NodeJS.WriteStream;
  /** Notes for the user (an unpinned tag). */
  warn?: (message: string) => void;
  signal?: AbortSignal;
}

/**
 * Makes `docker.image` available on the engine as `docker.pull` asks: a local image is used as it is (unless
 * `always`), otherwise pulled with progress. Any failure is a UserError naming the image and what to do, raised
 * before a container exists.
 */
export async function ensureImage(
  client: Docker,
  docker: DockerSpec,
  options: EnsureImageOptions = {},
): Promise<void> {
  const { image, pull } = docker;
  const output = options.output ?? process.stderr;
  if (isUnpinnedImage(image)) {
    options.warn?.(
      `docker.image ${image} is not pinned: the next pull may bring another vLLM. Pin a tag (e.g. :v0.11.0).`,
    );
  }
  const local = await imageIsLocal(client, image);
  if (local && pull !== 'always') return;
  if (!local && pull === 'never') {
    throw new UserError(
      [
        `evalrig: image ${image} is not on this Docker engine, and docker.pull is never.`,
        '  Load it (`docker load -i image.tar`), build it, or set `pull: missing` to pull it from its registry.',
      ].join('\n'),
      ExitCode.runFailed,
    );
  }
  try {
    await pullImage(client, image, output, options.signal);
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    const message = dockerErrorMessage(error);
    const lines = [`evalrig: could not pull ${image}: ${message}`, `  ${pullFailureHint(message)}`];
    if (local) lines.push('  A copy of the image is already local: `pull: missing` would use it.');
    throw new UserError(lines.join('\n'), ExitCode.runFailed);
  }
}
