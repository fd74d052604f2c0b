import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Every test file runs with a home folder and an evalrig cache of its own, and so does every process it starts
 * (children inherit the environment): no test reads or writes the real ~/.cache/evalrig (server records,
 * downloaded datasets) or anything else under the user's home.
 */
const home = mkdtempSync(join(tmpdir(), 'evalrig-test-home-'));
mkdirSync(join(home, '.cache'), { recursive: true });
process.env['HOME'] = home;
process.env['EVALRIG_CACHE'] = join(home, '.cache', 'evalrig');
