// Module hooks (node:module register): appends the URL of every module the program resolves to a file, one a line.
// The hooks run on a thread of their own, so each URL is written at once rather than collected for an exit handler.
import { appendFileSync } from 'node:fs';

let file;

export function initialize(data) {
  file = data.file;
}

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  appendFileSync(file, `${resolved.url}\n`);
  return resolved;
}
