import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { EvalScopeEvalSpec } from '../../plan/schema.js';
import { signalGroup } from '../../server/process-group.js';
import type { Version } from '../../util/pep440.js';
import type { EvalContext } from '../evaluator.js';
import type { Endpoint, EvalResult } from '../types.js';
import { renderEvalScopeCommand, showEvalScopeCommand } from './argv.js';
import { EvalScopeError, failureFromLog, notInstalledFailure } from './failures.js';
import { lineSplitter, progressReporter } from './output.js';
import { EVALSCOPE_WORK_DIR, reusableOutput } from './resume.js';
import {
  combineReports,
  findOutputFolder,
  findReportFile,
  parseReport,
  writeReviewsAsPredictions,
} from './results.js';

/** After SIGTERM, the group gets this long to end before SIGKILL. */
const TERM_GRACE_MS = 5_000;

/**
 * Runs `evalscope eval` against the ready server as a child in a process group of its own: its output goes to
 * `evals/<name>/evalscope.log` (the API key masked), its progress to the display; the group is ended on time-out,
 * on abort and after it exits (a worker it left behind would hold the pipes). Its report becomes evalrig's result.
 */
export async function runEvalScope(
  spec: EvalScopeEvalSpec,
  version: Version,
  endpoint: Endpoint,
  ctx: EvalContext,
): Promise<EvalResult> {
  const started = Date.now();
  const workDir = join(ctx.evalDir, EVALSCOPE_WORK_DIR);
  // A resume hands EvalScope the answers its interrupted run saved, where the release can take them.
  const earlier = ctx.resume ? reusableOutput(ctx.evalDir, version) : undefined;
  mkdirSync(workDir, { recursive: true });
  const command = renderEvalScopeCommand(spec, version, endpoint, workDir, earlier);
  const key = endpoint.apiKey;
  const mask = (text: string): string => ctx.mask(key ? text.replaceAll(key, '***') : text);
  const logFile = join(ctx.evalDir, 'evalscope.log');
  const log = createWriteStream(logFile);
  log.write(`$ ${mask(showEvalScopeCommand(command))}\n`);
  ctx.display.info(`${spec.name}: ${mask(showEvalScopeCommand(command))}`);
  if (ctx.resume)
    ctx.display.info(
      earlier
        ? `${spec.name}: EvalScope goes on from the answers it saved in ${earlier}`
        : `${spec.name}: EvalScope runs from its start (no answers of an earlier attempt it can reuse)`,
    );

  const child = execa(command.file, command.args, {
    detached: true,
    reject: false,
    stdin: 'ignore',
    cwd: ctx.evalDir,
    env: { PYTHONUNBUFFERED: '1' },
  });
  const showProgress = progressReporter(ctx.display);
  const outputs = [child.stdout, child.stderr].map((stream) => {
    const lines = lineSplitter((line) => {
      const text = mask(line);
      log.write(text);
      showProgress(text);
    });
    stream?.on('data', (chunk: Buffer) => lines.write(chunk));
    return lines;
  });

  // No pid: the spawn failed, so there is no group to signal.
  const signalChild = (signal: NodeJS.Signals): void => {
    if (child.pid !== undefined) signalGroup(child.pid, signal);
  };
  let stoppedBy: 'timeout' | 'abort' | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = (why: 'timeout' | 'abort'): void => {
    stoppedBy ??= why;
    signalChild('SIGTERM');
    killTimer ??= setTimeout(() => signalChild('SIGKILL'), TERM_GRACE_MS);
  };
  const timer = setTimeout(() => stop('timeout'), spec.timeout * 1000);
  const onAbort = (): void => stop('abort');
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  if (ctx.signal.aborted) onAbort();

  const result = await child;
  clearTimeout(timer);
  clearTimeout(killTimer);
  ctx.signal.removeEventListener('abort', onAbort);
  signalChild('SIGKILL');
  for (const lines of outputs) lines.end();
  await new Promise<void>((resolve) => log.end(resolve));

  if (stoppedBy === 'abort')
    throw ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error('interrupted');
  if (stoppedBy === 'timeout') {
    throw new EvalScopeError(
      `EvalScope did not finish within ${spec.timeout} s (the eval's timeout); see ${logFile}`,
    );
  }
  if (result.code === 'ENOENT')
    throw new EvalScopeError('EvalScope is not installed', notInstalledFailure(command.file));
  if (result.exitCode !== 0) {
    const status =
      result.exitCode === undefined
        ? `ended by ${result.signal ?? 'a signal'}`
        : `exited with ${result.exitCode}`;
    throw new EvalScopeError(
      `EvalScope ${status} (${logFile})`,
      failureFromLog(readFileSync(logFile, 'utf8')),
    );
  }

  const output = findOutputFolder(workDir);
  if (!output)
    throw new EvalScopeError(`EvalScope exited 0 but wrote no reports/ under ${workDir} (${logFile})`);
  const reports = spec.datasets.map((dataset) => {
    const file = findReportFile(output, dataset);
    if (!file)
      throw new EvalScopeError(`EvalScope wrote no report for ${dataset} in ${join(output, 'reports')}`);
    return parseReport(readFileSync(file, 'utf8'), file);
  });
  const predictionsFile = join(ctx.evalDir, 'predictions.jsonl');
  writeReviewsAsPredictions(output, spec.datasets, predictionsFile);
  const combined = combineReports(reports);
  return {
    name: spec.name,
    backend: 'evalscope',
    dataset: spec.datasets.join(','),
    metric: combined.metric,
    num: combined.num,
    score: combined.score,
    subsets: combined.subsets,
    truncated: 0,
    errors: 0,
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    latency_ms: null,
    retries: 0,
    wall_ms: Date.now() - started,
    predictions_file: predictionsFile,
  };
}
