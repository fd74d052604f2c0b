import { noRefusal, type Notifier } from './notifier.js';
import { headline } from './text.js';

/** evalrig's own fields, for a webhook of one's own: the notice as summary.json names things, and a title. */
export const jsonNotifier: Notifier = {
  kind: 'json',
  render: (notice, target) => ({
    url: target.url,
    body: {
      source: 'evalrig',
      title: headline(notice),
      ...notice,
      ...(target.mention ? { mention: target.mention } : {}),
    },
  }),
  refusal: noRefusal,
};
