import type { ServerHandle } from '../runtime.js';
import { getJson, type JsonReply } from './get-json.js';
import { ReadinessError } from './readiness-error.js';

interface ModelEntry {
  id?: string;
  max_model_len?: number;
}

export interface ServedModel {
  ours: ModelEntry;
  served: string[];
}

/**
 * GET /v1/models and find the model to evaluate, with a message for each way it can go wrong. The port could
 * belong to another server (vLLM binds with SO_REUSEPORT), so a healthy port alone proves nothing.
 */
export async function findServedModel(handle: ServerHandle): Promise<ServedModel> {
  const url = `${handle.baseUrl}/v1/models`;
  const fail = (message: string) => new ReadinessError('wrong-server', message, handle.logTail(20));
  let models: JsonReply<{ data?: ModelEntry[] }>;
  try {
    models = await getJson(url, handle.apiKey);
  } catch (error) {
    throw fail(
      `${url} failed after /health answered: ${(error as Error).message}. Is something else listening on that port?`,
    );
  }
  if (models.status === 401) {
    throw fail(
      `${url} answered 401 Unauthorized: server.api_key does not match the key ${handle.hints.keyOwner}.`,
    );
  }
  if (models.status !== 200 || !Array.isArray(models.body?.data)) {
    throw fail(
      `${url} answered ${models.status} with ${JSON.stringify(models.text)}, not a model list: is this a vLLM (OpenAI-compatible) server?`,
    );
  }
  const entries = models.body.data;
  const served = entries.map((entry) => entry.id ?? '');
  // No served name in the plan (an external endpoint): take what it serves, the first model.
  const ours =
    handle.servedModel === '' ? entries[0] : entries.find((entry) => entry.id === handle.servedModel);
  if (!ours) {
    const listed = served.length > 0 ? `lists [${served.join(', ')}]` : 'lists no model';
    const what = handle.servedModel === '' ? 'a model' : `"${handle.servedModel}"`;
    throw fail(
      `${handle.baseUrl} answers, but /v1/models ${listed}, not ${what}. ${handle.hints.modelMissing}`,
    );
  }
  return { ours, served };
}
