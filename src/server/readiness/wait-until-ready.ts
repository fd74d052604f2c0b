import type { ServerHandle } from '../runtime.js';
import { getJson } from './get-json.js';
import { waitForHealth, type HealthWaitOptions } from './health.js';
import { findServedModel } from './served-model.js';

export interface ReadyInfo {
  /** The model name requests must use: the plan's served name, or what an external endpoint serves. */
  servedModel: string;
  /** From GET /version; null when the server does not have the route. */
  vllmVersion: string | null;
  /** From GET /v1/models for the served name. */
  maxModelLen: number | null;
  servedModels: string[];
  /** From the start of the wait to the moment readiness was detected. */
  waitedMs: number;
}

export type ReadinessOptions = HealthWaitOptions;

/**
 * Ready means: /health answers 200, then /v1/models lists our served name; /version is read on the way (older
 * servers lack it). Start-up phases in the log feed the display only, never this decision.
 */
export async function waitUntilReady(handle: ServerHandle, options: ReadinessOptions): Promise<ReadyInfo> {
  const started = Date.now();
  await waitForHealth(handle, options);
  // Both at once: /version is only read on the way, and the run waits for the slower of the two.
  const [{ ours, served }, version] = await Promise.all([
    findServedModel(handle),
    getJson<{ version?: string }>(`${handle.baseUrl}/version`, handle.apiKey).catch(() => undefined),
  ]);
  return {
    servedModel: ours.id ?? handle.servedModel,
    vllmVersion: version?.body?.version ?? null,
    maxModelLen: ours.max_model_len ?? null,
    servedModels: served,
    waitedMs: Date.now() - started,
  };
}
