#!/usr/bin/env node
// Builds the local image evalrig/vllm-sim:test with no registry: a root filesystem made of this host's Node
// binary and the libraries it links, a static busybox for /bin/sh, and the vLLM simulator (dist/sim), imported
// with `docker import`'s API. Its entrypoint behaves like vllm/vllm-openai's: it takes engine arguments
// (`--model X …`), so runtime docker runs it exactly as the real image. It also serves as the base image
// (VLLM_IMAGE) and the Node source (NODE_IMAGE) of docker/Dockerfile in tests.
//
//   npm run build && node scripts/build-sim-image.mjs [--tag evalrig/vllm-sim:test] [--force]
//
// The image carries a hash of everything that went into it; a rebuild is skipped when the hash matches.
// Needs: DOCKER_HOST (or /var/run/docker.sock), /bin/busybox (Debian: busybox-static), tar, ldd, `npm run build`.
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { buildUnlessUpToDate, isMainScript, logger, option, reportBuild } from './lib/docker-build.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SIM_DIST = join(ROOT, 'dist', 'sim');
const SIM_MAIN = 'dist/sim/src/main.js';
const BUSYBOX = '/bin/busybox';
const HASH_LABEL = 'evalrig.sim-content-hash';
export const DEFAULT_TAG = 'evalrig/vllm-sim:test';

/** Where things live inside the image. */
const IMAGE_SIM_DIR = '/opt/vllm-sim';
const IMAGE_NODE = '/usr/local/bin/node';

// vllm/vllm-openai's entrypoint runs the OpenAI server with the container's arguments (`--model X …`). The
// simulator's CLI is `vllm serve X …`, so this turns the one into the other; `serve …` passes through as it is.
const ENTRYPOINT_SCRIPT = `#!/bin/sh
# vllm/vllm-openai's entrypoint, for the simulator: engine arguments in, \`vllm serve MODEL …\` out.
# exec keeps the server PID 1, so \`docker stop\`'s SIGTERM reaches it directly, as in the real image.
if [ "$1" = serve ]; then exec vllm "$@"; fi
model=""
for arg in "$@"; do
  case "$arg" in --model=*) model="\${arg#--model=}" ;; esac
done
if [ -z "$model" ]; then
  previous=""
  for arg in "$@"; do
    if [ "$previous" = --model ]; then model="$arg"; fi
    previous="$arg"
  done
fi
if [ -z "$model" ]; then echo "vllm-openai-entrypoint: expected --model MODEL" >&2; exit 2; fi
# Rebuild the argument list without the --model pair.
skip=0
first=1
for arg in "$@"; do
  if [ "$first" = 1 ]; then set --; first=0; fi
  if [ "$skip" = 1 ]; then skip=0; continue; fi
  case "$arg" in
    --model) skip=1; continue ;;
    --model=*) continue ;;
  esac
  set -- "$@" "$arg"
done
exec vllm serve "$model" "$@"
`;

const VLLM_SCRIPT = `#!/bin/sh
exec ${IMAGE_NODE} ${IMAGE_SIM_DIR}/${SIM_MAIN} "$@"
`;

const log = logger('build-sim-image');

function fail(message) {
  log(message);
  process.exit(1);
}

/** The shared libraries `ldd` says the Node binary needs, the ELF interpreter included. */
function nodeLibraries(nodeBinary) {
  const output = execFileSync('ldd', [nodeBinary], { encoding: 'utf8' });
  const libraries = [];
  for (const line of output.split('\n')) {
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (match?.[1]) libraries.push(match[1]);
  }
  return libraries;
}

/** Bare package names the simulator imports (`yaml`, `@scope/pkg`), found in its compiled files. */
function importedPackages(files) {
  const patterns = [
    /^(?:import|export)\s[^;]*?\bfrom\s*['"]([^'"]+)['"]/gm,
    /^import\s*['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  const packageName = /^(?:@[\w.~-]+\/)?[\w.~-]+/;
  const names = new Set();
  for (const file of files.filter((f) => f.endsWith('.js'))) {
    const text = readFileSync(file, 'utf8');
    for (const pattern of patterns) {
      for (const [, specifier] of text.matchAll(pattern)) {
        if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) continue;
        const name = packageName.exec(specifier)?.[0];
        if (name) names.add(name);
      }
    }
  }
  return [...names];
}

/** Where Node finds package `name` when imported from `fromFolder` (node_modules folders upwards, to the root). */
function resolvePackage(name, fromFolder) {
  for (let folder = fromFolder; ; folder = dirname(folder)) {
    const candidate = join(folder, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (folder === ROOT || folder === dirname(folder)) return undefined;
  }
}

/** The installed folders of these packages and of everything they depend on. */
function packageClosure(names) {
  const folders = new Set();
  const visit = (name, fromFolder) => {
    const folder = resolvePackage(name, fromFolder);
    if (!folder) fail(`the simulator needs the package ${name}, which is not installed: run npm ci`);
    if (folders.has(folder)) return;
    folders.add(folder);
    const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'));
    for (const dependency of Object.keys(manifest.dependencies ?? {})) visit(dependency, folder);
  };
  for (const name of names) visit(name, ROOT);
  return [...folders];
}

function filesUnder(folder) {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name))
    .sort();
}

/** Everything the image is made of, as [path inside the image, source file] pairs, plus generated files. */
function collectInputs() {
  if (!existsSync(join(ROOT, SIM_MAIN))) fail(`${SIM_MAIN} is missing: run \`npm run build\` first`);
  if (!existsSync(BUSYBOX))
    fail(`${BUSYBOX} is missing: apt-get install busybox-static (bash .ci/docker-engine.sh start does)`);
  const nodeBinary = realpathSync(process.execPath);
  const copies = [
    [IMAGE_NODE, nodeBinary],
    ['/bin/busybox', BUSYBOX],
  ];
  for (const library of nodeLibraries(nodeBinary)) copies.push([library, realpathSync(library)]);
  const simFiles = filesUnder(SIM_DIST);
  for (const file of simFiles) copies.push([join(IMAGE_SIM_DIR, relative(ROOT, file)), file]);
  for (const folder of packageClosure(importedPackages(simFiles))) {
    for (const file of filesUnder(folder)) copies.push([join(IMAGE_SIM_DIR, relative(ROOT, file)), file]);
  }
  const generated = {
    [`${IMAGE_SIM_DIR}/package.json`]:
      JSON.stringify({ name: 'vllm-sim-image', private: true, type: 'module' }) + '\n',
    '/usr/local/bin/vllm': VLLM_SCRIPT,
    '/usr/local/bin/vllm-openai-entrypoint': ENTRYPOINT_SCRIPT,
    '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
    '/etc/group': 'root:x:0:\nnogroup:x:65534:\n',
    '/etc/nsswitch.conf': 'hosts: files dns\n',
  };
  return { copies, generated };
}

function contentHash({ copies, generated }) {
  const hash = createHash('sha256');
  hash.update(readFileSync(fileURLToPath(import.meta.url)));
  for (const [target, source] of copies) hash.update(`${target}\0`).update(readFileSync(source));
  for (const [target, text] of Object.entries(generated).sort()) hash.update(`${target}\0${text}`);
  return hash.digest('hex').slice(0, 16);
}

function writeRootfs(rootfs, { copies, generated }) {
  for (const [target, source] of copies) {
    const destination = join(rootfs, target);
    mkdirSync(dirname(destination), { recursive: true });
    copyFileSync(source, destination);
    chmodSync(destination, statSync(source).mode & 0o777);
  }
  for (const [target, text] of Object.entries(generated)) {
    const destination = join(rootfs, target);
    mkdirSync(dirname(destination), { recursive: true });
    writeFileSync(destination, text, { mode: target.includes('/bin/') ? 0o755 : 0o644 });
  }
  // busybox provides sh, mkdir, ln, … under /bin; docker build's RUN needs them.
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const applet of applets) {
    const link = join(rootfs, 'bin', applet);
    if (!existsSync(link)) symlinkSync('busybox', link);
  }
  for (const folder of ['tmp', 'root', 'models', 'usr/bin'])
    mkdirSync(join(rootfs, folder), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  // `#!/usr/bin/env node` scripts (evalrig's CLI) look for env there.
  symlinkSync('/bin/busybox', join(rootfs, 'usr/bin/env'));
}

async function importRootfs(client, rootfs, tag, hash) {
  const [repo, version] = tag.split(/:(?=[^:/]+$)/);
  const tar = spawn('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', rootfs, '-c', '.'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const tarDone = new Promise((resolve, reject) => {
    tar.once('error', reject);
    tar.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`tar exited with ${code}`))));
  });
  const stream = await client.importImage(tar.stdout, {
    repo,
    tag: version ?? 'latest',
    changes: [
      'ENTRYPOINT ["/usr/local/bin/vllm-openai-entrypoint"]',
      'ENV PATH=/usr/local/bin:/usr/bin:/bin',
      'ENV HOME=/root',
      'WORKDIR /',
      `LABEL ${HASH_LABEL}=${hash}`,
      'LABEL org.opencontainers.image.description="vLLM simulator with a vllm/vllm-openai-style entrypoint (evalrig tests)"',
    ],
  });
  await new Promise((resolve, reject) => {
    client.modem.followProgress(stream, (error, events) => {
      const failed = events?.find((event) => event.error);
      if (error || failed) reject(error ?? new Error(failed.error));
      else resolve();
    });
  });
  await tarDone;
}

/**
 * Test files build the image at the same time: one build at a time (a lock folder), the others then find it
 * up to date. A lock older than two minutes belongs to a build that died.
 */
async function withBuildLock(work) {
  const lock = join(tmpdir(), 'evalrig-sim-image.lock');
  for (const started = Date.now(); ;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      const stale = Date.now() - statSync(lock, { throwIfNoEntry: false })?.mtimeMs > 120_000;
      if (stale) rmSync(lock, { recursive: true, force: true });
      else if (Date.now() - started > 180_000)
        throw new Error(`${lock} is held for too long; remove it if no build runs`);
      else await sleep(200);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export function buildSimImage(options = {}) {
  return withBuildLock(() => buildUnlocked(options));
}

async function buildUnlocked({ tag = DEFAULT_TAG, force = false, client = new Docker() }) {
  const inputs = collectInputs();
  const hash = contentHash(inputs);
  // The replaced image (about 100 MB with vfs) goes; images built on it keep it alive.
  return buildUnlessUpToDate({
    client,
    tag,
    hash,
    hashLabel: HASH_LABEL,
    hashName: 'content',
    force,
    log,
    build: async () => {
      const rootfs = mkdtempSync(join(tmpdir(), 'evalrig-sim-rootfs-'));
      try {
        writeRootfs(rootfs, inputs);
        await importRootfs(client, rootfs, tag, hash);
      } finally {
        rmSync(rootfs, { recursive: true, force: true });
      }
    },
  });
}

if (isMainScript(import.meta.url)) {
  const args = process.argv.slice(2);
  reportBuild(
    buildSimImage({ tag: option(args, '--tag', DEFAULT_TAG), force: args.includes('--force') }),
    log,
  );
}
