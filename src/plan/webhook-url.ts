/**
 * Webhook addresses carry their credential: in the query (DingTalk `access_token`, WeCom `key`) or in the path
 * (Feishu `/hook/<token>`, Slack `/services/<team>/<bot>/<secret>`). What may be shown of one: the origin, the
 * path segments that are route words, and `***` for every other segment and every query value.
 */

const MASK = '***';

/** A route word such as `open-apis`, `cgi-bin` or `v2`; tokens and ids are longer, or have digits. */
const ROUTE_WORD = /^(?:[A-Za-z]+(?:[-_][A-Za-z]+)*|v\d+)$/;
const MAX_ROUTE_WORD = 20;

function isRouteWord(segment: string): boolean {
  return segment.length <= MAX_ROUTE_WORD && ROUTE_WORD.test(segment);
}

/** The address as it may be shown, and the parts hidden from it (the credentials). */
export function splitWebhookUrl(address: string): { shown: string; hidden: string[] } {
  if (!URL.canParse(address)) return { shown: MASK, hidden: [address] };
  const url = new URL(address);
  const hidden: string[] = [];
  const path = url.pathname
    .split('/')
    .map((segment) => {
      if (segment === '' || isRouteWord(segment)) return segment;
      hidden.push(segment);
      return MASK;
    })
    .join('/');
  const query = [...url.searchParams.entries()].map(([name, value]) => {
    hidden.push(value);
    return `${name}=${MASK}`;
  });
  return { shown: `${url.origin}${path}${query.length > 0 ? `?${query.join('&')}` : ''}`, hidden };
}

/** The webhook as a warning may show it, e.g. `https://oapi.dingtalk.com/robot/send?access_token=***`. */
export function shownUrl(address: string): string {
  return splitWebhookUrl(address).shown;
}

/**
 * The credentials an endpoint's address may carry: its user and password, and every query value (`?api-key=…`).
 * Its path stays: for an OpenAI-style base URL it is a route (`/v1`), never a token.
 */
export function endpointCredentials(address: string): string[] {
  if (!URL.canParse(address)) return [];
  const url = new URL(address);
  return [url.username, url.password, ...url.searchParams.values()].filter((part) => part !== '');
}

/** The endpoint as files and messages may show it: `https://***:***@host/v1?key=***`. */
export function shownEndpoint(address: string): string {
  if (!URL.canParse(address)) return address;
  const url = new URL(address);
  if (url.username) url.username = MASK;
  if (url.password) url.password = MASK;
  for (const name of new Set(url.searchParams.keys())) url.searchParams.set(name, MASK);
  return url.href;
}
