// What scripts/build-evalrig-image.mjs and scripts/build-sim-image.mjs share: an image carries a hash of what
// went into it in a label, a rebuild is skipped while the hash matches, and the image a rebuild replaced is
// removed. Also their command-line plumbing.
import { realpathSync } from 'node:fs';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

/** A log function writing `[name] message` lines to stderr (stdout carries the result). */
export function logger(name) {
  return (message) => process.stderr.write(`[${name}] ${message}\n`);
}

/** The image's inspect data, or undefined when the engine has no image of that tag. */
export async function inspectImage(client, tag) {
  try {
    return await client.getImage(tag).inspect();
  } catch (error) {
    if (error?.statusCode === 404) return undefined;
    throw error;
  }
}

/**
 * Runs `build` unless image `tag` already carries `hash` in its label `hashLabel` (`force` builds anyway), then
 * removes the image the build replaced, which would linger untagged. `hashName` says what the hash covers in the
 * log lines; `started` is when the work began (default: when the build begins).
 */
export async function buildUnlessUpToDate({
  client,
  tag,
  hash,
  hashLabel,
  hashName,
  force,
  log,
  started,
  build,
}) {
  const previous = await inspectImage(client, tag);
  if (!force && previous?.Config?.Labels?.[hashLabel] === hash) {
    log(`${tag} is up to date (${hashName} ${hash})`);
    return { tag, hash, built: false };
  }
  const begun = started ?? Date.now();
  await build();
  // A build that changed nothing keeps the image id: that image is the current one, not a leftover.
  const current = await inspectImage(client, tag);
  if (previous && previous.Id !== current?.Id)
    await client
      .getImage(previous.Id)
      .remove()
      .catch(() => undefined);
  log(`built ${tag} (${hashName} ${hash}) in ${((Date.now() - begun) / 1000).toFixed(1)} s`);
  return { tag, hash, built: true };
}

/** True when the module at `moduleUrl` (its import.meta.url) is the script node was started with. */
export function isMainScript(moduleUrl) {
  return Boolean(process.argv[1]) && realpathSync(process.argv[1]) === fileURLToPath(moduleUrl);
}

/** The value that follows `name` in the arguments, or `fallback` when `name` is not there. */
export function option(args, name, fallback) {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : fallback;
}

/** Prints the build's result as one JSON line on stdout; when it fails, logs why and exits 1. */
export function reportBuild(result, log) {
  result.then(
    (value) => process.stdout.write(`${JSON.stringify(value)}\n`),
    (error) => {
      log(`could not build the image: ${error?.json?.message ?? error?.message ?? error}`);
      process.exit(1);
    },
  );
}
