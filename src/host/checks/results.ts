import type { CheckResult } from './types.js';

export function ok(id: string, title: string, detail: string): CheckResult {
  return { id, title, status: 'ok', detail, fix: null };
}

export function skipped(id: string, title: string, detail: string): CheckResult {
  return { id, title, status: 'skipped', detail, fix: null };
}
