import type { NotifyKind, NotifyTarget } from '../plan/schema.js';
import type { RunNotice } from './notice.js';

/** One POST: where to, and the JSON body. */
export interface WebhookRequest {
  url: string;
  body: unknown;
}

/** One message shape (`notify[].kind`); `registry.ts` maps each kind to one. */
export interface Notifier {
  readonly kind: NotifyKind;
  /** The request for a notice; called for every attempt, so that a signature's timestamp is fresh. */
  render(notice: RunNotice, target: NotifyTarget): WebhookRequest;
  /**
   * The platform's refusal in an HTTP 200 answer, as "message (code N)"; undefined when it took the message.
   * `answer` is the parsed JSON body, or the text when it was not JSON.
   */
  refusal(answer: unknown): string | undefined;
}

/**
 * Reads a refusal from the fields a platform answers with, e.g. `{"errcode": 310000, "errmsg": "sign not match"}`:
 * a code other than 0 is one.
 */
export function codeRefusal(codeField: string, messageField: string): Notifier['refusal'] {
  return (answer) => {
    if (typeof answer !== 'object' || answer === null || !(codeField in answer)) return undefined;
    const fields = answer as Record<string, unknown>;
    const code = fields[codeField];
    if (code === 0 || code === '0') return undefined;
    const message = fields[messageField];
    return `${typeof message === 'string' && message ? message : '(no message)'} (${codeField} ${String(code)})`;
  };
}

/** Platforms that say no by HTTP status alone. */
export const noRefusal: Notifier['refusal'] = () => undefined;
