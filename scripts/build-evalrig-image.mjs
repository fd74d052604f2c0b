#!/usr/bin/env node
// Builds docker/Dockerfile from a prepared build context: the built dist/, the production node_modules, configs,
// data and the simulator shim, streamed straight from the checkout with tar, so the image builds without the
// npm registry (offline hosts, and the tests).
// From a plain checkout with registry access, `docker build -f docker/Dockerfile .` works as well (the
// Dockerfile then runs npm ci itself). See docs/docker.md.
//
//   npm run build && node scripts/build-evalrig-image.mjs [--tag evalrig:0.1.0]
//       [--vllm-image vllm/vllm-openai:v0.11.0] [--node-image node:20.19.5-bookworm-slim] [--with-evalscope 0|1] [--force]
//
// The image carries a hash of its build context and arguments; a rebuild is skipped when it matches (--force
// builds anyway). Needs DOCKER_HOST (or /var/run/docker.sock), tar, and `npm run build` done.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { buildUnlessUpToDate, isMainScript, logger, option, reportBuild } from './lib/docker-build.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
const HASH_LABEL = 'evalrig.context-hash';
const EXCLUDED = /\.(map|tsbuildinfo)$/;

/** What the image needs from the checkout, beside node_modules. */
const CONTEXT_PATHS = [
  'package.json',
  'package-lock.json',
  'dist',
  'configs',
  'data',
  'sim/bin',
  // The report page's browser scripts and style sheet, read at run time.
  'src/report/html/client',
  'docker/Dockerfile',
  'README.md',
];

const log = logger('build-evalrig-image');

/** The installed folders of the production dependencies, outermost only (nested ones come with their parent). */
function productionPackageFolders() {
  const output = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  const folders = output
    .split('\n')
    .filter((line) => line.startsWith(join(ROOT, 'node_modules') + sep))
    .map((line) => relative(ROOT, line))
    .sort();
  return folders.filter(
    (folder, index) => !folders.slice(0, index).some((parent) => folder.startsWith(parent + sep)),
  );
}

function contextPaths() {
  if (!existsSync(join(ROOT, 'dist/cli/cli.js')))
    throw new Error('dist/cli/cli.js is missing: run `npm run build` first');
  return [...CONTEXT_PATHS, ...productionPackageFolders()].filter((path) => existsSync(join(ROOT, path)));
}

/** A hash of every file of the context (path and content) and of the build arguments. */
function contextHash(paths, buildargs) {
  const hash = createHash('sha256').update(JSON.stringify(buildargs));
  const visit = (path) => {
    const full = join(ROOT, path);
    if (statSync(full).isDirectory()) {
      for (const name of readdirSync(full).sort()) visit(join(path, name));
    } else if (!EXCLUDED.test(path)) {
      hash.update(`${path}\0`).update(readFileSync(full));
    }
  };
  for (const path of paths) visit(path);
  return hash.digest('hex').slice(0, 16);
}

/** The build context as a tar stream of the checkout's paths; no copy on disk. */
function contextStream(paths) {
  // Source maps and build info are of no use in the image.
  const tar = spawn(
    'tar',
    [
      '--numeric-owner',
      '--owner=0',
      '--group=0',
      '--exclude=*.map',
      '--exclude=*.tsbuildinfo',
      '-C',
      ROOT,
      '-c',
      ...paths,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return tar.stdout;
}

function followBuild(client, stream) {
  return new Promise((resolve, reject) => {
    let failure;
    client.modem.followProgress(
      stream,
      (error) => (error || failure ? reject(error ?? new Error(failure)) : resolve()),
      (event) => {
        if (event.error) failure ??= event.errorDetail?.message ?? event.error;
        else if (event.stream) process.stderr.write(event.stream);
      },
    );
  });
}

export async function buildEvalrigImage({
  tag = `evalrig:${VERSION}`,
  vllmImage,
  nodeImage,
  withEvalscope = '1',
  force = false,
  client = new Docker(),
} = {}) {
  const started = Date.now();
  const buildargs = { WITH_EVALSCOPE: withEvalscope };
  if (vllmImage) buildargs.VLLM_IMAGE = vllmImage;
  if (nodeImage) buildargs.NODE_IMAGE = nodeImage;
  const paths = contextPaths();
  // The base images are part of what is built: their ids go into the hash too.
  const baseIds = await Promise.all(
    [vllmImage, nodeImage].map((image) =>
      image
        ? client
            .getImage(image)
            .inspect()
            .then(
              (i) => i.Id,
              () => image,
            )
        : '',
    ),
  );
  const hash = contextHash(paths, { ...buildargs, baseIds });
  // The replaced image goes; the build cache (the intermediate images) stays.
  return buildUnlessUpToDate({
    client,
    tag,
    hash,
    hashLabel: HASH_LABEL,
    hashName: 'context',
    force,
    log,
    started,
    build: async () => {
      const stream = await client.buildImage(contextStream(paths), {
        t: tag,
        dockerfile: 'docker/Dockerfile',
        buildargs,
        labels: { [HASH_LABEL]: hash },
        rm: true,
        forcerm: true,
      });
      await followBuild(client, stream);
    },
  });
}

if (isMainScript(import.meta.url)) {
  const args = process.argv.slice(2);
  reportBuild(
    buildEvalrigImage({
      tag: option(args, '--tag', `evalrig:${VERSION}`),
      vllmImage: option(args, '--vllm-image'),
      nodeImage: option(args, '--node-image'),
      withEvalscope: option(args, '--with-evalscope', '1'),
      force: args.includes('--force'),
    }),
    log,
  );
}
