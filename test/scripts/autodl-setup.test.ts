import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../paths.js';

/**
 * scripts/autodl-setup.mjs as a process, in a copy of the checkout (no node_modules, no dist, as a fresh clone),
 * with the AutoDL data disk in a temp folder and stand-ins first on PATH for nvidia-smi, python3 (and the
 * virtual environment's python and modelscope), npm and node; each records its calls in a log. A small HTTP
 * server plays ModelScope's file list.
 */
const STAND_INS = join(ROOT, 'test/scripts/stand-ins');
const MODEL = 'Qwen/Qwen3-8B';
const MIRROR = 'https://mirrors.aliyun.com/pypi/simple/';

const MODEL_FILES: Record<string, string> = {
  'config.json': '{"architectures": ["Qwen3ForCausalLM"], "max_position_embeddings": 40960}\n',
  'model-00001-of-00002.safetensors': 'weights, part one '.repeat(200),
  'model-00002-of-00002.safetensors': 'weights, part two '.repeat(150),
  'tokenizer.json': '{"version": "1.0"}\n',
};

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let modelScope: Server;
let endpoint: string;
let fileListRequests = 0;
/** Files whose listed sha256 is wrong, to stand for a damaged download. */
const wrongHashes = new Set<string>();

beforeAll(async () => {
  modelScope = createServer((request, response) => {
    fileListRequests++;
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (
      url.pathname !== `/api/v1/models/${MODEL}/repo/files` ||
      url.searchParams.get('Revision') !== 'master'
    ) {
      response.writeHead(404).end(JSON.stringify({ Code: 10010205001, Message: 'not found' }));
      return;
    }
    const files = Object.entries(MODEL_FILES).map(([path, text]) => ({
      Name: path,
      Path: path,
      Type: 'blob',
      Size: Buffer.byteLength(text),
      Sha256: wrongHashes.has(path) ? sha256('something else') : sha256(text),
      Revision: '1a2b3c4d',
    }));
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        Code: 200,
        Data: { Files: [{ Name: 'docs', Path: 'docs', Type: 'tree' }, ...files] },
      }),
    );
  });
  await new Promise<void>((resolve) => modelScope.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(modelScope.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => modelScope.close(() => resolve())));

interface World {
  checkout: string;
  root: string;
  log: string;
  run(
    args?: string[],
    env?: Record<string, string>,
  ): Promise<{ exitCode: number; output: string; calls: string[] }>;
}

/** A fresh checkout copy, data disk and call log. */
function makeWorld(): World {
  const base = mkdtempSync(join(tmpdir(), 'evalrig-autodl-'));
  const checkout = join(base, 'checkout');
  const root = join(base, 'autodl-tmp');
  const source = join(base, 'modelscope-source');
  mkdirSync(root);
  mkdirSync(source);
  for (const [path, text] of Object.entries(MODEL_FILES)) writeFileSync(join(source, path), text);
  cpSync(join(ROOT, 'scripts'), join(checkout, 'scripts'), { recursive: true });
  for (const file of ['package.json', 'package-lock.json', 'configs/qwen3-8b.yaml'])
    cpSync(join(ROOT, file), join(checkout, file));
  const log = join(base, 'calls.log');
  writeFileSync(log, '');
  return {
    checkout,
    root,
    log,
    async run(args = [], env = {}) {
      const before = readFileSync(log, 'utf8').split('\n').filter(Boolean).length;
      const result = await execa(process.execPath, [join(checkout, 'scripts/autodl-setup.mjs'), ...args], {
        cwd: checkout,
        reject: false,
        all: true,
        extendEnv: false,
        env: {
          PATH: `${join(STAND_INS, 'bin')}:/usr/bin:/bin`,
          HOME: process.env['HOME'],
          STAND_INS,
          STAND_IN_LOG: log,
          EVALRIG_AUTODL_ROOT: root,
          MODELSCOPE_DOMAIN: endpoint,
          FAKE_MODELSCOPE_SOURCE: source,
          FAKE_NVIDIA_SMI_SCENARIO: 'free-h200',
          ...env,
        },
      });
      const calls = readFileSync(log, 'utf8').split('\n').filter(Boolean).slice(before);
      return { exitCode: result.exitCode ?? -1, output: result.all ?? '', calls };
    },
  };
}

const called = (calls: string[], program: string) => calls.filter((call) => call.startsWith(`${program} `));

describe('autodl-setup', () => {
  it('--dry-run prints every step with its exact command and touches nothing', async () => {
    const world = makeWorld();
    const { exitCode, output, calls } = await world.run(['--dry-run']);
    expect(exitCode, output).toBe(0);
    const venv = join(world.root, 'venvs/evalrig');
    const modelDir = join(world.root, MODEL);
    expect(output).toContain('ok: NVIDIA H200 (143752 MiB); driver 580.95.05, CUDA 13.0');
    expect(output).toContain(`would run: python3 -m venv ${venv}`);
    expect(output).toContain(
      `would run: ${venv}/bin/python -m pip install --disable-pip-version-check --index-url ${MIRROR} vllm==0.11.0 evalscope==1.1.1`,
    );
    expect(output).toContain(
      `would run: ${venv}/bin/modelscope download --model ${MODEL} --revision master --local_dir ${modelDir}`,
    );
    expect(output).toContain(`${endpoint}/api/v1/models/${MODEL}/repo/files?Revision=master`);
    expect(output).toContain('would run: npm ci');
    expect(output).toContain(
      `would run: node dist/cli/cli.js doctor configs/qwen3-8b.yaml --set server.model=${modelDir}`,
    );
    expect(output).toContain('Dry run, nothing changed: 4 steps would run, 0 already done.');
    // Only the read-only GPU queries ran; nothing was written.
    expect(
      calls.every((call) => call.startsWith('nvidia-smi ')),
      calls.join('\n'),
    ).toBe(true);
    expect(readdirSync(world.root)).toEqual([]);
    expect(existsSync(join(world.checkout, 'node_modules'))).toBe(false);
    expect(fileListRequests).toBe(0);
  });

  it('honours PIP_INDEX_URL and --mirror none: pip then reads its own settings', async () => {
    const world = makeWorld();
    const fromEnv = await world.run(['--dry-run'], { PIP_INDEX_URL: 'https://pypi.example.org/simple' });
    expect(fromEnv.output).toContain('pip index: https://pypi.example.org/simple (PIP_INDEX_URL)');
    expect(fromEnv.output).toMatch(
      /pip install --disable-pip-version-check vllm==0\.11\.0 evalscope==1\.1\.1/,
    );
    const none = await world.run(['--dry-run', '--mirror', 'none', '--vllm', '0.10.2']);
    expect(none.output).toMatch(/pip install --disable-pip-version-check vllm==0\.10\.2 evalscope==1\.1\.1/);
  });

  it('a first run does every step; a second run changes nothing and says so', async () => {
    const world = makeWorld();
    const venv = join(world.root, 'venvs/evalrig');
    const modelDir = join(world.root, MODEL);

    const first = await world.run();
    expect(first.exitCode, first.output).toBe(0);
    expect(called(first.calls, 'python3')).toEqual([`python3 -m venv ${venv}`]);
    expect(called(first.calls, 'venv-python')).toContain(
      `venv-python -m pip install --disable-pip-version-check --index-url ${MIRROR} vllm==0.11.0 evalscope==1.1.1`,
    );
    expect(called(first.calls, 'modelscope')).toEqual([
      `modelscope download --model ${MODEL} --revision master --local_dir ${modelDir}`,
    ]);
    expect(called(first.calls, 'npm')).toEqual(['npm ci']);
    expect(called(first.calls, 'node')).toContain(
      `node dist/cli/cli.js doctor configs/qwen3-8b.yaml --set server.model=${modelDir}`,
    );
    // The doctor finds the environment's vllm and python first on PATH.
    expect(called(first.calls, 'node')).toContain(
      `node PATH=${venv}/bin:${join(STAND_INS, 'bin')}:/usr/bin:/bin`,
    );
    expect(first.output).toContain('sha256 ok  model-00001-of-00002.safetensors');
    expect(first.output).toContain('Set-up done: 4 steps run, 0 already done.');
    for (const [path, text] of Object.entries(MODEL_FILES))
      expect(readFileSync(join(modelDir, path), 'utf8')).toBe(text);

    const requestsBefore = fileListRequests;
    const second = await world.run();
    expect(second.exitCode, second.output).toBe(0);
    expect(second.output.match(/already done: /g)).toHaveLength(4);
    expect(second.output).toContain('already done: vllm 0.11.0, evalscope 1.1.1');
    expect(second.output).toMatch(/already done: 4 files, 0\.0 GB, sizes and sha256 checked \d{4}-/);
    expect(second.output).toContain('Nothing changed: every step was already done.');
    expect(called(second.calls, 'python3')).toEqual([]);
    expect(called(second.calls, 'modelscope')).toEqual([]);
    expect(called(second.calls, 'npm')).toEqual([]);
    expect(called(second.calls, 'venv-python').every((call) => call.includes('pip list'))).toBe(true);
    expect(fileListRequests).toBe(requestsBefore);
  });

  it('stops at a driver too old for CUDA 12, before anything is installed', async () => {
    const world = makeWorld();
    const { exitCode, output, calls } = await world.run([], { FAKE_NVIDIA_SMI_SCENARIO: 'old-driver' });
    expect(exitCode, output).toBe(1);
    expect(output).toContain(
      'Tesla V100-SXM2-32GB (32768 MiB); driver 520.61.05, CUDA 11.8: the driver is too old',
    );
    expect(output).toContain('need driver 525.60.13 or newer');
    expect(output).toContain('Set-up stopped.');
    expect(
      calls.every((call) => call.startsWith('nvidia-smi ')),
      calls.join('\n'),
    ).toBe(true);
  });

  it('says there is no GPU when nvidia-smi finds none', async () => {
    const world = makeWorld();
    const { exitCode, output } = await world.run([], { FAKE_NVIDIA_SMI_SCENARIO: 'no-gpu' });
    expect(exitCode, output).toBe(1);
    expect(output).toContain('No devices were found');
    expect(output).toContain('start the instance with its GPU');
  });

  it('quotes the last lines of a failing pip and says what to do', async () => {
    const world = makeWorld();
    const { exitCode, output, calls } = await world.run([], { FAKE_PIP_FAIL: '1' });
    expect(exitCode, output).toBe(1);
    expect(output).toMatch(/pip install .* failed \(exit 1\); its last lines:/);
    expect(output).toContain('| ERROR: No matching distribution found for vllm==0.11.0');
    expect(output).toContain('What to do:');
    expect(called(calls, 'modelscope')).toEqual([]);
    expect(called(calls, 'npm')).toEqual([]);
  });

  it('refuses a download whose sha256 does not match the file list, and names the file', async () => {
    const world = makeWorld();
    wrongHashes.add('model-00002-of-00002.safetensors');
    try {
      const { exitCode, output } = await world.run();
      expect(exitCode, output).toBe(1);
      expect(output).toMatch(
        /model-00002-of-00002\.safetensors: sha256 [0-9a-f]{64}, the list says [0-9a-f]{64}/,
      );
      expect(existsSync(join(world.root, MODEL, '.evalrig-verified.json'))).toBe(false);
    } finally {
      wrongHashes.clear();
    }
  });
});
