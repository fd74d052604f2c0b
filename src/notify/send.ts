import pRetry from 'p-retry';
import type { NotifyTarget } from '../plan/schema.js';
import type { MatrixSummary, RunSummary } from '../run/summary.js';
import type { RunDisplay } from '../util/display.js';
import { describeNetworkError } from '../util/network-error.js';
import { noticeOf, verdictOf, wants, type RunNotice } from './notice.js';
import type { Notifier } from './notifier.js';
import { shownUrl } from '../plan/webhook-url.js';
import { credentialMasker } from './redact.js';
import { notifierFor } from './registry.js';
import type { RunReporter } from '../run/reporter.js';

/** Where notifications report: a line when one was sent, a warning when one failed. The run's display fits. */
export type NotifyLog = Pick<RunDisplay, 'info' | 'warn'>;

export interface SendOptions {
  log: NotifyLog;
  /** Pause before the first retry; each further one doubles, up to 30 s, drawn between one and two times that. */
  retryDelayMs?: number;
}

const DEFAULT_RETRY_DELAY_MS = 1_000;
const MAX_RETRY_DELAY_MS = 30_000;
/** Of an answer that refuses, the part a warning quotes. */
const MAX_QUOTED_CHARS = 200;

/** An attempt that failed: why, in words, and whether another attempt may go better. */
class DeliveryFailure extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'DeliveryFailure';
  }
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function postOnce(notifier: Notifier, notice: RunNotice, target: NotifyTarget): Promise<void> {
  const request = notifier.render(notice, target);
  let status: number;
  let text: string;
  try {
    // The time limit covers the body too: a server that sends headers and then stalls is cut off all the same.
    const response = await fetch(request.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'evalrig' },
      body: JSON.stringify(request.body),
      signal: AbortSignal.timeout(target.timeout * 1000),
    });
    status = response.status;
    text = await response.text();
  } catch (error) {
    throw new DeliveryFailure(describeNetworkError(error, target.timeout * 1000), true);
  }
  if (status < 200 || status >= 300) {
    const quoted = text.trim().slice(0, MAX_QUOTED_CHARS);
    throw new DeliveryFailure(
      `HTTP ${status}${quoted ? `: ${quoted}` : ''}`,
      status === 429 || status >= 500,
    );
  }
  // Feishu, DingTalk and WeCom answer 200 and say no in the body.
  const refusal = notifier.refusal(parsed(text));
  if (refusal !== undefined) throw new DeliveryFailure(`refused: ${refusal}`, false);
}

async function deliver(notice: RunNotice, target: NotifyTarget, options: SendOptions): Promise<void> {
  const notifier = notifierFor(target.kind);
  const where = `${notifier.kind} webhook ${shownUrl(target.url)}`;
  let attempts = 0;
  try {
    await pRetry(
      () => {
        attempts++;
        return postOnce(notifier, notice, target);
      },
      {
        retries: target.retries,
        minTimeout: options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS,
        maxTimeout: MAX_RETRY_DELAY_MS,
        factor: 2,
        randomize: true,
        shouldRetry: ({ error }) => error instanceof DeliveryFailure && error.retryable,
      },
    );
    options.log.info(`notified the ${where}`);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const tries = attempts > 1 ? ` (gave up after ${attempts} attempts)` : '';
    // A platform's message may quote the request; the target's credentials never reach the log.
    options.log.warn(credentialMasker(target)(`could not notify the ${where}: ${reason}${tries}`));
  }
}

/**
 * Posts the notice to every target at once; resolves when all are done. Never rejects: a notification that fails
 * after its retries is a warning through `log`, never a failed run.
 */
export async function sendNotifications(
  notice: RunNotice,
  targets: readonly NotifyTarget[],
  options: SendOptions,
): Promise<void> {
  await Promise.all(targets.map((target) => deliver(notice, target, options)));
}

/**
 * Tells the plan's `notify:` targets how a run or a matrix ended (with its gate verdicts and score changes), each
 * whose `on:` asks for it. Never rejects.
 */
export async function notifyRun(
  summary: RunSummary | MatrixSummary,
  targets: readonly NotifyTarget[] | undefined,
  log: NotifyLog,
): Promise<void> {
  if (!targets || targets.length === 0) return;
  const notice = noticeOf(summary, verdictOf(summary));
  await sendNotifications(
    notice,
    targets.filter((target) => wants(target.on, notice)),
    { log },
  );
}

/** The reporter, plus the plan's notifications once the command's outcome is known. */
export function withNotifications(reporter: RunReporter): RunReporter {
  return {
    ...reporter,
    announce: (summary, plan) =>
      notifyRun(summary, plan.notify, {
        info: (message) => console.error(message),
        warn: (message) => console.error(`warning: ${message}`),
      }),
  };
}
