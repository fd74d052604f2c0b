import { codeRefusal, type Notifier } from './notifier.js';
import { clipLines, headline, MARKDOWN, noticeLines } from './text.js';

/**
 * WeCom (WeChat Work) group bot: a `markdown` message, answered with `{"errcode": 0, "errmsg": "ok"}` or an
 * errcode other than 0 (93000 an invalid webhook key). The markdown content may not exceed 4096 bytes.
 */

const MAX_CONTENT_BYTES = 4096;

export const wecomNotifier: Notifier = {
  kind: 'wecom',
  render(notice, target) {
    const title = MARKDOWN.bold(headline(notice));
    // Markdown messages mention people by user id, written into the content.
    const mentionLine = target.mention?.map((id) => `<@${id}>`).join(' ');
    const framing = [title, mentionLine].filter((line) => line !== undefined);
    const room = MAX_CONTENT_BYTES - Buffer.byteLength(framing.join('\n')) - framing.length;
    const lines = [title, ...clipLines(noticeLines(notice, MARKDOWN), room)];
    if (mentionLine) lines.push(mentionLine);
    return { url: target.url, body: { msgtype: 'markdown', markdown: { content: lines.join('\n') } } };
  },
  refusal: codeRefusal('errcode', 'errmsg'),
};
