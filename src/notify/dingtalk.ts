import { createHmac } from 'node:crypto';
import { codeRefusal, type Notifier } from './notifier.js';
import { clipLines, headline, MARKDOWN, noticeLines } from './text.js';

/**
 * DingTalk custom robot: a `markdown` message, answered with `{"errcode": 0, "errmsg": "ok"}` or an errcode other
 * than 0 (310000 a signature that does not match or a keyword that is missing).
 */

const MAX_TEXT_BYTES = 18_000;
/** A blank line between lines: DingTalk's markdown joins lines that a single newline separates. */
const LINE_BREAK = '\n\n';

/** DingTalk mentions people by mobile number or by user id. */
const MOBILE_NUMBER = /^\+?\d[\d-]{4,}$/;

/**
 * DingTalk's recipe: HMAC-SHA256 keyed with the secret over "timestamp\nsecret", base64, url-encoded into the
 * query with the time in milliseconds.
 */
function signedUrl(url: string, secret: string): string {
  const timestamp = String(Date.now());
  const signed = new URL(url);
  signed.searchParams.set('timestamp', timestamp);
  // URLSearchParams percent-encodes the base64 (+, / and =), which is the url-encoding DingTalk asks for.
  signed.searchParams.set(
    'sign',
    createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64'),
  );
  return signed.toString();
}

function mentions(ids: readonly string[]) {
  const people = ids.filter((id) => id !== 'all');
  return {
    at: {
      atMobiles: people.filter((id) => MOBILE_NUMBER.test(id)),
      atUserIds: people.filter((id) => !MOBILE_NUMBER.test(id)),
      isAtAll: ids.includes('all'),
    },
    // DingTalk highlights a mention only when the text names the person too.
    line: people.map((id) => `@${id}`).join(' '),
  };
}

export const dingtalkNotifier: Notifier = {
  kind: 'dingtalk',
  render(notice, target) {
    const title = headline(notice);
    const mentioned = target.mention ? mentions(target.mention) : undefined;
    const lines = [
      `#### ${title}`,
      ...clipLines(noticeLines(notice, MARKDOWN), MAX_TEXT_BYTES, LINE_BREAK.length),
    ];
    if (mentioned?.line) lines.push(mentioned.line);
    return {
      url: target.secret === undefined ? target.url : signedUrl(target.url, target.secret),
      body: {
        msgtype: 'markdown',
        markdown: { title, text: lines.join(LINE_BREAK) },
        ...(mentioned ? { at: mentioned.at } : {}),
      },
    };
  },
  refusal: codeRefusal('errcode', 'errmsg'),
};
