#!/usr/bin/env node
// Prepares a fresh AutoDL GPU instance for evalrig and the Qwen3-8B + vLLM + EvalScope set-up: checks the GPU,
// driver and data disk, makes a Python virtual environment with pinned vllm and evalscope, downloads Qwen3-8B
// from ModelScope and checks every file, installs the Node dependencies, and ends with `evalrig doctor`.
// Each step first looks whether it is done already; a second run changes nothing and says so. See docs/autodl.md.
//
//   node scripts/autodl-setup.mjs [--dry-run] [--root DIR] [--venv DIR] [--python PYTHON] [--vllm VERSION]
//       [--evalscope VERSION] [--mirror URL|none] [--model ID] [--revision REV] [--model-dir DIR] [--plan FILE]
//
// It runs on a fresh clone before `npm ci`, so it uses Node's own modules only (zx is a devDependency).
import { accessSync, constants, existsSync, mkdirSync, readFileSync, statfsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { parseArgs } from 'node:util';
import {
  bytesMissing,
  fetchModelFiles,
  fileListUrl,
  modelScopeEndpoint,
  problemsOfCopy,
  verifiedRecordThatHolds,
  writeVerifiedRecord,
} from './lib/model-files.mjs';
import { runProgram, shellLine } from './lib/processes.mjs';

const CHECKOUT = resolve(import.meta.dirname, '..');
const DEFAULT_ROOT = '/root/autodl-tmp';
/** Aliyun's PyPI mirror, the one AutoDL's images point pip at (docs/autodl.md). */
const DEFAULT_MIRROR = 'https://mirrors.aliyun.com/pypi/simple/';
/**
 * Oldest Linux driver for CUDA 12 (12.0 GA, 525.60.13; NVIDIA's CUDA Toolkit Release Notes): vLLM's CUDA 12
 * wheels run on any 12.x driver through minor-version compatibility. evalrig doctor applies the same floor.
 */
const MIN_DRIVER = '525.60.13';
/** torch, vLLM and the CUDA libraries pip brings, with room to spare. */
const VENV_BYTES = 15e9;
/** Room left beside the weights for ModelScope's temporary files. */
const DOWNLOAD_MARGIN_BYTES = 1e9;
const MIN_NODE = '20.19.0';
const GPU_QUERY = [
  '--query-gpu=index,uuid,name,memory.total,memory.used,memory.free,driver_version',
  '--format=csv,noheader,nounits',
];

const USAGE = `Usage: node scripts/autodl-setup.mjs [options]

Prepares this AutoDL instance for evalrig: GPU and driver check, a Python virtual environment with pinned
vllm and evalscope, Qwen3-8B from ModelScope (sizes and sha256 checked), npm ci, then evalrig doctor.
Steps already done are left as they are.

Options:
  --dry-run            print every step and its exact command; change nothing
  --root DIR           the AutoDL data disk (default: EVALRIG_AUTODL_ROOT, else ${DEFAULT_ROOT})
  --venv DIR           the virtual environment (default: <root>/venvs/evalrig)
  --python PYTHON      the Python that makes it (default: python3)
  --vllm VERSION       vllm version to pin (default: 0.11.0)
  --evalscope VERSION  evalscope version to pin (default: 1.1.1)
  --mirror URL|none    pip index (default: PIP_INDEX_URL when set, else ${DEFAULT_MIRROR});
                       none: pip's own configuration
  --model ID           ModelScope model (default: Qwen/Qwen3-8B)
  --revision REV       its branch, tag or commit (default: master)
  --model-dir DIR      where the weights go (default: <root>/<model>)
  --plan FILE          the plan evalrig doctor checks (default: configs/qwen3-8b.yaml)
  -h, --help           show this help

Exit codes: 0 done, 1 a step failed (the message says what to do), 2 invalid options, else evalrig doctor's.`;

class SetupError extends Error {}

function parseOptions(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'dry-run': { type: 'boolean', default: false },
        root: { type: 'string' },
        venv: { type: 'string' },
        python: { type: 'string', default: 'python3' },
        vllm: { type: 'string', default: '0.11.0' },
        evalscope: { type: 'string', default: '1.1.1' },
        mirror: { type: 'string' },
        model: { type: 'string', default: 'Qwen/Qwen3-8B' },
        revision: { type: 'string', default: 'master' },
        'model-dir': { type: 'string' },
        plan: { type: 'string', default: 'configs/qwen3-8b.yaml' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    process.stderr.write(`autodl-setup: ${error.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const root = resolve(values.root ?? (process.env.EVALRIG_AUTODL_ROOT?.trim() || DEFAULT_ROOT));
  const venv = resolve(values.venv ?? join(root, 'venvs', 'evalrig'));
  return {
    dryRun: values['dry-run'],
    root,
    venv,
    venvPython: join(venv, 'bin', 'python'),
    python: values.python,
    pins: { vllm: values.vllm, evalscope: values.evalscope },
    pipIndex: pipIndex(values.mirror),
    model: values.model,
    revision: values.revision,
    modelDir: resolve(values['model-dir'] ?? join(root, values.model)),
    plan: values.plan,
  };
}

/** Where pip looks: PIP_INDEX_URL wins (pip reads it itself), then --mirror, then the default mirror. */
function pipIndex(mirror) {
  if (process.env.PIP_INDEX_URL) return { args: [], shown: `${process.env.PIP_INDEX_URL} (PIP_INDEX_URL)` };
  if (mirror === 'none') return { args: [], shown: "pip's own configuration (--mirror none)" };
  const url = mirror ?? DEFAULT_MIRROR;
  const trusted = url.startsWith('http:') ? ['--trusted-host', new URL(url).hostname] : [];
  return { args: ['--index-url', url, ...trusted], shown: url };
}

function compareVersions(a, b) {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

const gigabytes = (bytes) => `${(bytes / 1e9).toFixed(1)} GB`;

function freeBytes(path) {
  const stats = statfsSync(path);
  return stats.bavail * stats.bsize;
}

function requireFreeSpace(options, needed, what) {
  const free = freeBytes(options.root);
  if (free < needed)
    throw new SetupError(
      `only ${gigabytes(free)} free under ${options.root}; ${what} needs about ${gigabytes(needed)}.\n` +
        'Expand the data disk in the AutoDL console (or free space there), then run this again.',
    );
}

/** A failed command's error: what failed, its last lines, and what to do. */
function commandFailed(command, args, result, advice) {
  const quoted = result.lastLines.map((line) => `  | ${line}`).join('\n');
  const how = result.missing ? 'was not found' : `failed (exit ${result.exitCode})`;
  return new SetupError(
    `${shellLine(command, args)} ${how}${quoted ? `; its last lines:\n${quoted}` : ''}\n${advice}`,
  );
}

async function runOrFail(command, args, options, advice) {
  const result = await runProgram(command, args, { echo: true, ...options });
  if (result.exitCode !== 0) throw commandFailed(command, args, result, advice);
}

// ─── the steps ──────────────────────────────────────────────────────────────────────────────────────────────
// Each step: `inspect` says whether it is done (or throws what is wrong); `apply` does it. Checks change nothing.

function gpuStep() {
  return {
    title: 'GPU, driver and CUDA',
    check: true,
    async inspect() {
      const query = await runProgram('nvidia-smi', GPU_QUERY);
      if (query.missing)
        throw new SetupError(
          'nvidia-smi was not found: this machine has no NVIDIA driver. On AutoDL, start the instance with its GPU\n' +
            '(an instance started without a card has none), then run this again.',
        );
      if (query.exitCode !== 0) {
        const said = `${query.stdout}${query.stderr}`.trim();
        const advice = /No devices were found/i.test(said)
          ? 'The driver sees no GPU: start the instance with its GPU, then run this again.'
          : 'Run nvidia-smi yourself for the whole message; if the driver is not loaded, restart the instance.';
        throw new SetupError(`nvidia-smi failed (exit ${query.exitCode}): ${said}\n${advice}`);
      }
      const gpus = query.stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split(',').map((field) => field.trim()))
        .map(([, , name, total, , , driver]) => ({ name, totalMiB: Number(total), driver }));
      if (gpus.length === 0)
        throw new SetupError('nvidia-smi lists no GPU: start the instance with its GPU.');
      const table = await runProgram('nvidia-smi', []);
      const cuda = /CUDA Version:\s*([\d.]+)/.exec(table.stdout)?.[1] ?? 'unknown';
      const driver = gpus[0].driver;
      const shown = `${gpus.map((gpu) => `${gpu.name} (${gpu.totalMiB} MiB)`).join(', ')}; driver ${driver}, CUDA ${cuda}`;
      if (compareVersions(driver, MIN_DRIVER) < 0)
        throw new SetupError(
          `${shown}: the driver is too old. vLLM's CUDA 12 wheels need driver ${MIN_DRIVER} or newer (CUDA 12.0).\n` +
            'Rent an instance on a machine whose driver supports CUDA 12 or newer; a container cannot upgrade it.',
        );
      return { done: true, detail: shown };
    },
  };
}

function dataDiskStep(options) {
  return {
    title: `Data disk ${options.root}`,
    check: true,
    async inspect() {
      if (!existsSync(options.root) || !statSync(options.root).isDirectory())
        throw new SetupError(
          `${options.root} does not exist: this is not an AutoDL instance, or its data disk is not there.\n` +
            'Pass --root DIR (or EVALRIG_AUTODL_ROOT) to set up under another folder.',
        );
      try {
        accessSync(options.root, constants.W_OK);
      } catch {
        throw new SetupError(
          `${options.root} is not writable for this user: run as root, as AutoDL's login is.`,
        );
      }
      return { done: true, detail: `${gigabytes(freeBytes(options.root))} free` };
    },
  };
}

function venvStep(options) {
  const args = ['-m', 'venv', options.venv];
  return {
    title: `Python virtual environment ${options.venv}`,
    async inspect() {
      if (existsSync(options.venvPython)) return { done: true, detail: `${options.venvPython} exists` };
      return { done: false, commands: [[options.python, args]] };
    },
    async apply() {
      mkdirSync(dirname(options.venv), { recursive: true });
      await runOrFail(
        options.python,
        args,
        {},
        `Check that ${options.python} works and has the venv module ` +
          '(Debian/Ubuntu system Python: apt-get install python3-venv), or pass --python.',
      );
    },
  };
}

/** name → version of what pip says is installed in the environment. */
async function installedPackages(python) {
  const result = await runProgram(python, [
    '-m',
    'pip',
    'list',
    '--format=json',
    '--disable-pip-version-check',
  ]);
  if (result.exitCode !== 0) return new Map();
  try {
    const normalize = (name) => name.toLowerCase().replace(/[-_.]+/g, '-');
    return new Map(JSON.parse(result.stdout).map(({ name, version }) => [normalize(name), version]));
  } catch {
    return new Map();
  }
}

function packagesStep(options) {
  const wanted = Object.entries(options.pins);
  const args = [
    '-m',
    'pip',
    'install',
    '--disable-pip-version-check',
    ...options.pipIndex.args,
    ...wanted.map(([name, version]) => `${name}==${version}`),
  ];
  const describe = (installed) =>
    wanted.map(([name]) => `${name} ${installed.get(name) ?? 'not installed'}`).join(', ');
  return {
    title: `${wanted.map(([name, version]) => `${name} ${version}`).join(' and ')} in the environment`,
    async inspect() {
      const installed = existsSync(options.venvPython)
        ? await installedPackages(options.venvPython)
        : new Map();
      if (wanted.every(([name, version]) => installed.get(name) === version))
        return { done: true, detail: describe(installed) };
      return {
        done: false,
        detail: `${describe(installed)}; pip index: ${options.pipIndex.shown}`,
        commands: [[options.venvPython, args]],
      };
    },
    async apply() {
      requireFreeSpace(options, VENV_BYTES, 'installing vllm and its CUDA libraries');
      await runOrFail(
        options.venvPython,
        args,
        {},
        'What to do: a version missing from the index ("No matching distribution") means the mirror lags or\n' +
          'has no wheel for this Python: try --mirror https://pypi.org/simple or another mirror, or --python with\n' +
          'another Python (then delete the environment first). Network errors: run this again; pip resumes.',
      );
      const installed = await installedPackages(options.venvPython);
      if (!wanted.every(([name, version]) => installed.get(name) === version))
        throw new SetupError(`pip finished, but the environment has ${describe(installed)}.`);
    },
  };
}

function modelStep(options) {
  const endpoint = modelScopeEndpoint(process.env);
  const modelscope = join(options.venv, 'bin', 'modelscope');
  const args = [
    'download',
    '--model',
    options.model,
    '--revision',
    options.revision,
    '--local_dir',
    options.modelDir,
  ];
  const listUrl = fileListUrl(endpoint, options.model, options.revision);
  return {
    title: `${options.model} (${options.revision}) in ${options.modelDir}`,
    async inspect() {
      const record = verifiedRecordThatHolds(options.modelDir, options.model, options.revision);
      if (record)
        return {
          done: true,
          detail: `${record.files.length} files, ${gigabytes(record.bytes)}, sizes and sha256 checked ${record.checkedAt}`,
        };
      return {
        done: false,
        detail: `no checked copy yet; afterwards each file's size and sha256 are checked against ${listUrl}`,
        commands: [[modelscope, args]],
      };
    },
    async apply() {
      let files;
      try {
        files = await fetchModelFiles({ endpoint, model: options.model, revision: options.revision });
      } catch (error) {
        throw new SetupError(
          `could not read the file list of ${options.model}: ${error.message}` +
            `${error.cause ? ` (${error.cause.code ?? error.cause.message})` : ''}\n` +
            'Check the network; outside mainland China set MODELSCOPE_DOMAIN=www.modelscope.ai.',
        );
      }
      const missing = bytesMissing(options.modelDir, files);
      if (missing > 0) {
        if (!existsSync(modelscope))
          throw new SetupError(
            `${modelscope} is missing: evalscope brings the modelscope package; install it with\n` +
              `  ${shellLine(options.venvPython, ['-m', 'pip', 'install', 'modelscope'])}`,
          );
        requireFreeSpace(options, missing + DOWNLOAD_MARGIN_BYTES, `the rest of ${options.model}`);
        mkdirSync(options.modelDir, { recursive: true });
        await runOrFail(modelscope, args, {}, 'Run this again: the download resumes where it stopped.');
      } else {
        log(`  every file is there already; checking them`);
      }
      log(`  checking ${files.length} files against the repository's list (sizes, then sha256)`);
      const problems = await problemsOfCopy(options.modelDir, files, (file) =>
        log(`    sha256 ok  ${file.path}`),
      );
      if (problems.length > 0)
        throw new SetupError(
          `the copy in ${options.modelDir} does not match ${options.model}:\n` +
            problems.map((problem) => `  ${problem}`).join('\n') +
            '\nDelete these files and run this again to download them anew.',
        );
      writeVerifiedRecord(options.modelDir, {
        model: options.model,
        revision: options.revision,
        checkedAt: new Date().toISOString(),
        bytes: files.reduce((sum, file) => sum + file.size, 0),
        files: files.map(({ path, size, sha256 }) => ({ path, size, sha256 })),
      });
    },
  };
}

/**
 * Whether node_modules holds what package-lock.json says: npm records what it installed in
 * node_modules/.package-lock.json; every package of the lock must be there in its version (optional ones may
 * be absent: they are for other platforms) and nothing else.
 */
function nodeModulesMatchLock() {
  const installedFile = join(CHECKOUT, 'node_modules', '.package-lock.json');
  if (!existsSync(installedFile)) return false;
  const wanted = JSON.parse(readFileSync(join(CHECKOUT, 'package-lock.json'), 'utf8')).packages ?? {};
  const installed = JSON.parse(readFileSync(installedFile, 'utf8')).packages ?? {};
  const allWanted = Object.entries(wanted).every(
    ([path, entry]) =>
      path === '' || installed[path]?.version === entry.version || (entry.optional && !installed[path]),
  );
  return allWanted && Object.keys(installed).every((path) => path in wanted);
}

function nodeStep() {
  return {
    title: `Node dependencies and build in ${CHECKOUT}`,
    async inspect() {
      if (compareVersions(process.versions.node, MIN_NODE) < 0)
        throw new SetupError(
          `Node ${process.versions.node} is older than the ${MIN_NODE} evalrig needs: install Node 20.`,
        );
      const built = existsSync(join(CHECKOUT, 'dist', 'cli', 'cli.js'));
      if (nodeModulesMatchLock())
        return built
          ? { done: true, detail: 'node_modules matches package-lock.json; dist/ is built' }
          : { done: false, detail: 'dist/ is not built', commands: [['npm', ['run', 'build']]] };
      // npm ci runs the prepare script, which builds dist/.
      return {
        done: false,
        detail: 'node_modules does not match package-lock.json',
        commands: [['npm', ['ci']]],
      };
    },
    async apply(state) {
      const [[command, args]] = state.commands;
      await runOrFail(
        command,
        args,
        { cwd: CHECKOUT },
        "Check the network and npm's registry (npm config get registry), then run this again.",
      );
      if (!nodeModulesMatchLock())
        throw new SetupError(
          `${shellLine(command, args)} finished, but node_modules still does not match package-lock.json.`,
        );
    },
  };
}

function doctorArgs(options) {
  return ['dist/cli/cli.js', 'doctor', options.plan, '--set', `server.model=${options.modelDir}`];
}

function log(message) {
  process.stdout.write(`${message}\n`);
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const steps = [
    gpuStep(),
    dataDiskStep(options),
    venvStep(options),
    packagesStep(options),
    modelStep(options),
    nodeStep(),
  ];
  const total = steps.length + 1;
  const counts = { done: 0, ran: 0, failed: 0 };
  for (const [index, step] of steps.entries()) {
    log(`[${index + 1}/${total}] ${step.title}`);
    try {
      const state = await step.inspect();
      if (state.done) {
        log(`  ${step.check ? 'ok' : 'already done'}: ${state.detail}`);
        if (!step.check) counts.done++;
        continue;
      }
      if (state.detail) log(`  ${state.detail}`);
      for (const [command, args] of state.commands)
        log(`  ${options.dryRun ? 'would run' : 'running'}: ${shellLine(command, args)}`);
      if (!options.dryRun) await step.apply(state);
      counts.ran++;
    } catch (error) {
      if (!(error instanceof SetupError)) throw error;
      log(`  error: ${error.message.replaceAll('\n', '\n  ')}`);
      // A dry run goes on, to show the whole set-up; a real one cannot build on a failed step.
      if (!options.dryRun) {
        log('Set-up stopped. Fix the problem above and run this again: finished steps are not repeated.');
        process.exit(1);
      }
      counts.failed++;
    }
  }

  log(`[${total}/${total}] evalrig doctor`);
  const doctor = doctorArgs(options);
  const env = { ...process.env, PATH: `${join(options.venv, 'bin')}:${process.env.PATH ?? ''}` };
  if (options.dryRun) {
    log(
      `  would run: ${shellLine('node', doctor)}  (in ${CHECKOUT}, with ${join(options.venv, 'bin')} first on PATH)`,
    );
    const failed = counts.failed > 0 ? `, ${counts.failed} would stop with the error shown` : '';
    log(`Dry run, nothing changed: ${counts.ran} steps would run, ${counts.done} already done${failed}.`);
    process.exit(counts.failed > 0 ? 1 : 0);
  }
  log(`  running: ${shellLine('node', doctor)}`);
  const result = await runProgram('node', doctor, { cwd: CHECKOUT, env, echo: true });
  log(
    counts.ran === 0
      ? 'Nothing changed: every step was already done.'
      : `Set-up done: ${counts.ran} steps run, ${counts.done} already done.`,
  );
  if (result.exitCode !== 0) {
    log(`evalrig doctor found problems (exit ${result.exitCode}): see its report above.`);
    process.exit(result.exitCode || 1);
  }
  log(`Next: source ${join(options.venv, 'bin', 'activate')} && npm run plan ${options.plan}`);
}

await main();
