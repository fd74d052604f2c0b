import type { NotifyKind } from '../plan/schema.js';
import { dingtalkNotifier } from './dingtalk.js';
import { feishuNotifier } from './feishu.js';
import { jsonNotifier } from './json.js';
import type { Notifier } from './notifier.js';
import { slackNotifier } from './slack.js';
import { wecomNotifier } from './wecom.js';

/** One message shape per `notify[].kind`: a new platform is one file and one entry here. */
const NOTIFIERS: Record<NotifyKind, Notifier> = {
  json: jsonNotifier,
  feishu: feishuNotifier,
  dingtalk: dingtalkNotifier,
  wecom: wecomNotifier,
  slack: slackNotifier,
};

export function notifierFor(kind: NotifyKind): Notifier {
  return NOTIFIERS[kind];
}
