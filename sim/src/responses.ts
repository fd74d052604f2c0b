import { STATUS_CODES } from 'node:http';
import { randomHex } from './hash.js';
import type { VersionRules } from './versions.js';

// JSON bodies in vLLM's key order, per version ("vllm-versions §N" = docs/vllm-versions.md, section N). ≤0.10
// follows vLLM 0.8.5's shapes (vllm-versions §4.3, §9), ≥0.11 vLLM 0.13's (§9) and the 0.11–0.17 stream chunks
// (§3.1, §3.2); which reasoning key(s) a version sends is `VersionRules.reasoningFields`.

export type Finish = 'stop' | 'length';

export interface ResponseMeta {
  readonly id: string;
  readonly created: number;
  readonly model: string;
}

export interface Usage {
  readonly prompt_tokens: number;
  readonly total_tokens: number;
  readonly completion_tokens: number;
}

/** vLLM's UsageInfo key order (vllm-versions §8). */
export function usage(prompt: number, completion: number): Usage {
  return { prompt_tokens: prompt, total_tokens: prompt + completion, completion_tokens: completion };
}

export function completionId(rules: VersionRules): string {
  return `chatcmpl-${randomHex(rules.shortIds ? 16 : 32)}`;
}

/** The reasoning key(s) of a message or delta (vllm-versions §3.1). */
function reasoningKeys(rules: VersionRules, text: string | null): Record<string, string | null> {
  switch (rules.reasoningFields) {
    case 'reasoning_content':
      return { reasoning_content: text };
    case 'both':
      return { reasoning: text, reasoning_content: text };
    case 'reasoning':
      return { reasoning: text };
  }
}

export function chatCompletionBody(
  rules: VersionRules,
  meta: ResponseMeta,
  reasoning: string | null,
  content: string | null,
  finish: Finish,
  use: Usage,
): object {
  const head = { id: meta.id, object: 'chat.completion', created: meta.created, model: meta.model };
  if (!rules.modernResponseShape) {
    return {
      ...head,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', ...reasoningKeys(rules, reasoning), content, tool_calls: [] },
          logprobs: null,
          finish_reason: finish,
          stop_reason: null,
        },
      ],
      usage: { ...use, prompt_tokens_details: null },
      prompt_logprobs: null,
    };
  }
  return {
    ...head,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content,
          refusal: null,
          annotations: null,
          audio: null,
          function_call: null,
          tool_calls: [],
          ...reasoningKeys(rules, reasoning),
        },
        logprobs: null,
        finish_reason: finish,
        stop_reason: null,
        token_ids: null,
      },
    ],
    service_tier: null,
    system_fingerprint: null,
    usage: { ...use, prompt_tokens_details: null },
    prompt_logprobs: null,
    prompt_token_ids: null,
    kv_transfer_params: null,
  };
}

export type DeltaKind = 'role' | 'reasoning' | 'content';

/**
 * A streamed delta. In 0.11.1–0.15.x a validator copies `reasoning` into `reasoning_content`, which
 * therefore appears (as null) on every delta (vllm-versions §3.2).
 */
function delta(rules: VersionRules, kind: DeltaKind, text: string): object {
  const alias = rules.reasoningFields === 'both' ? { reasoning_content: null } : {};
  switch (kind) {
    case 'role':
      return { role: 'assistant', content: '', ...alias };
    case 'content':
      return { content: text, ...alias };
    case 'reasoning':
      return reasoningKeys(rules, text);
  }
}

export function chunkBody(
  rules: VersionRules,
  meta: ResponseMeta,
  kind: DeltaKind,
  text: string,
  finish: Finish | null,
  runningUsage: Usage | null,
): object {
  const choice: Record<string, unknown> = {
    index: 0,
    delta: delta(rules, kind, text),
    logprobs: null,
    finish_reason: finish,
  };
  if (finish !== null) choice.stop_reason = null;
  // The role chunk is built without token_ids, so exclude_unset leaves the key out.
  if (rules.modernResponseShape && kind !== 'role') choice.token_ids = null;
  const body: Record<string, unknown> = {
    id: meta.id,
    object: 'chat.completion.chunk',
    created: meta.created,
    model: meta.model,
    choices: [choice],
  };
  if (runningUsage) body.usage = runningUsage;
  return body;
}

/** The include_usage chunk: `choices: []`, null keys left out (vllm-versions §8). */
export function usageChunkBody(meta: ResponseMeta, use: Usage): object {
  return {
    id: meta.id,
    object: 'chat.completion.chunk',
    created: meta.created,
    model: meta.model,
    choices: [],
    usage: use,
  };
}

export interface ApiError {
  readonly status: number;
  readonly message: string;
  readonly type?: string;
  readonly param?: string | null;
}

const ERROR_TYPES: Record<number, string> = {
  400: 'BadRequestError',
  404: 'NotFoundError',
  500: 'InternalServerError',
  501: 'NotImplementedError',
};

function errorType(status: number): string {
  return ERROR_TYPES[status] ?? `${(STATUS_CODES[status] ?? 'Unknown').replace(/\s+/g, '')}Error`;
}

/** vllm-versions §5.1: flat ≤0.10.0, nested ≥0.10.1; the HTTP status always equals `code`. */
export function errorBody(rules: VersionRules, e: ApiError): object {
  const inner = {
    message: e.message,
    type: e.type ?? errorType(e.status),
    param: e.param ?? null,
    code: e.status,
  };
  return rules.nestedErrors ? { error: inner } : { object: 'error', ...inner };
}

/** An error after streaming began: old code wrapped the flat body in `{"error": …}` (vllm-versions §5.1). */
export function streamErrorBody(rules: VersionRules, e: ApiError): object {
  const body = errorBody(rules, e);
  return rules.nestedErrors ? body : { error: body };
}

/** vllm-versions §4.4: not the OpenAI envelope. */
export const UNAUTHORIZED_BODY = { error: 'Unauthorized' };

/** An OpenAI-style 429 body (vLLM has no rate limiter of its own). */
export function rateLimitBody(): object {
  return {
    error: {
      message: 'Rate limit reached for requests. Please try again in 1s.',
      type: 'requests',
      param: null,
      code: 'rate_limit_exceeded',
    },
  };
}

/** vllm-versions §4.3: one card per served name; `root` is the model argument. */
export function modelListBody(
  rules: VersionRules,
  names: readonly string[],
  root: string,
  maxModelLen: number,
): object {
  const created = Math.floor(Date.now() / 1000);
  return {
    object: 'list',
    data: names.map((id) => ({
      id,
      object: 'model',
      created,
      owned_by: 'vllm',
      root,
      parent: null,
      max_model_len: maxModelLen,
      permission: [
        {
          id: `modelperm-${randomHex(rules.shortIds ? 16 : 32)}`,
          object: 'model_permission',
          created,
          allow_create_engine: false,
          allow_sampling: true,
          allow_logprobs: true,
          allow_search_indices: false,
          allow_view: true,
          allow_fine_tuning: false,
          organization: '*',
          group: null,
          is_blocking: false,
        },
      ],
    })),
  };
}
