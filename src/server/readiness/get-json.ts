import { httpGet } from './http-get.js';

export interface JsonReply<T> {
  status: number;
  body: T | undefined;
  /** The start of the body, for messages when it is not what we expected. */
  text: string;
}

/** GET with the API key; a body that is not JSON comes back as `body: undefined` with its text. */
export async function getJson<T>(url: string, apiKey: string | undefined): Promise<JsonReply<T>> {
  const { status, text } = await httpGet(url, {
    headers: apiKey ? { Authorization: `Bearer ${apiKey}` } : {},
    timeoutMs: 10_000,
  });
  try {
    return { status, body: JSON.parse(text) as T, text: text.slice(0, 200) };
  } catch {
    return { status, body: undefined, text: text.slice(0, 200) };
  }
}
