import type { NotifyTarget } from '../plan/schema.js';
import { secretMasker } from '../plan/secrets.js';
import { splitWebhookUrl } from '../plan/webhook-url.js';

/**
 * Replaces the target's credentials (the parts of its address that `shownUrl` hides, its signing secret) wherever
 * they appear in a text, e.g. a platform's error message that quotes the request.
 */
export function credentialMasker(target: Pick<NotifyTarget, 'url' | 'secret'>): (text: string) => string {
  const { hidden } = splitWebhookUrl(target.url);
  return secretMasker(target.secret === undefined ? hidden : [...hidden, target.secret]);
}
