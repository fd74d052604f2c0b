// `node --import ./register.mjs program.js`: records what the program loads into the file MODULE_TRACE_FILE names.
import { register } from 'node:module';

register(new URL('./hooks.mjs', import.meta.url), { data: { file: process.env.MODULE_TRACE_FILE } });
