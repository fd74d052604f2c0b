import { createHmac } from 'node:crypto';
import { codeRefusal, type Notifier } from './notifier.js';
import { clipLines, headline, noticeLines, PLAIN } from './text.js';

/**
 * Feishu (Lark) custom bot: a rich-text `post` message, answered with `{"code": 0, "msg": "success"}` or a code
 * other than 0 (19021 a signature that does not match). The body may not exceed 20 KB.
 */

type PostElement = { tag: 'text'; text: string } | { tag: 'at'; user_id: string };

/** Room for the lines, out of the 20 KB, after the title, the mentions and the signature. */
const MAX_LINES_BYTES = 18_000;
/** What a line costs in the body besides its text: the paragraph around it and a comma. */
const PARAGRAPH_BYTES = JSON.stringify([{ tag: 'text', text: '' }]).length + 1;

/** Feishu's recipe: HMAC-SHA256 keyed with "timestamp\nsecret" over an empty message, base64; the time in seconds. */
function signature(timestamp: string, secret: string): string {
  return createHmac('sha256', `${timestamp}\n${secret}`).update('').digest('base64');
}

export const feishuNotifier: Notifier = {
  kind: 'feishu',
  render(notice, target) {
    const paragraphs: PostElement[][] = clipLines(
      noticeLines(notice, PLAIN),
      MAX_LINES_BYTES,
      PARAGRAPH_BYTES,
    ).map((line) => [{ tag: 'text', text: line }]);
    // "all" is Feishu's own id for everyone in the group.
    if (target.mention) paragraphs.push(target.mention.map((id) => ({ tag: 'at', user_id: id })));
    const message = {
      msg_type: 'post',
      content: { post: { zh_cn: { title: headline(notice), content: paragraphs } } },
    };
    if (target.secret === undefined) return { url: target.url, body: message };
    const timestamp = String(Math.floor(Date.now() / 1000));
    return { url: target.url, body: { timestamp, sign: signature(timestamp, target.secret), ...message } };
  },
  refusal: codeRefusal('code', 'msg'),
};
