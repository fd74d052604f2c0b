import { noRefusal, type Notifier } from './notifier.js';
import { clipLines, headline, noticeLines, type Markup } from './text.js';

/**
 * Slack incoming webhook: `text` (what notifications show) and Block Kit `blocks`, answered with 200 `ok`, or a
 * 4xx and a word such as `invalid_payload`. A header block holds at most 150 characters, a section's text 3000.
 */

const MAX_HEADER_CHARS = 150;
const MAX_SECTION_BYTES = 3000;

/** Slack's mrkdwn reads &, < and > as markup; text has them escaped. */
function escape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

const MRKDWN: Markup = {
  bold: (text) => `*${text}*`,
  code: (text) => `\`${escape(text).replaceAll('`', "'")}\``,
  text: escape,
};

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });

export const slackNotifier: Notifier = {
  kind: 'slack',
  render(notice, target) {
    const title = headline(notice);
    const blocks = [
      { type: 'header', text: { type: 'plain_text', text: title.slice(0, MAX_HEADER_CHARS) } },
      section(clipLines(noticeLines(notice, MRKDWN), MAX_SECTION_BYTES).join('\n')),
    ];
    if (target.mention) {
      blocks.push(section(target.mention.map((id) => (id === 'all' ? '<!channel>' : `<@${id}>`)).join(' ')));
    }
    return { url: target.url, body: { text: title, blocks } };
  },
  refusal: noRefusal,
};
