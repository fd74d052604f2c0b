import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PredictionRecord } from '../../src/eval/types.js';
import type { RunSummary } from '../../src/run/summary.js';
import { readRunFolder } from '../../src/report/run-folder.js';
import { writeRunHtmlAndJunit } from '../../src/report/run-reports.js';
import { readJson, readJsonLines, runDirFrom, startCli, writeSimPlan } from '../e2e/cli-helpers.js';
import { findProgram, skipWithout } from '../unit/report/missing-tool.js';
import { prediction, tempDir, writeRunFolder } from '../unit/report/run-fixture.js';

/**
 * report.html as a person opens it: from disk, in headless Chromium (Debian's `chromium`, driven by
 * playwright-core; no browser is downloaded). Two simulator runs of a demo-like plan with wrong answers, the
 * second compared with the first through the run history, and a synthetic run of 10,000 samples.
 */

const CHROMIUM =
  process.env.CHROMIUM_PATH ||
  findProgram('chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable');
const skip = skipWithout(CHROMIUM, 'report.html in headless Chromium', {
  program: 'chromium',
  install: 'apt-get install -y --no-install-recommends chromium',
});

const HOSTILE = '</script><script>alert("escaped?")</script><img src=x onerror=alert(2)> 答案：B';

/** What a page did while open: console errors, uncaught errors, dialogs and every URL it asked for. */
interface PageLog {
  errors: string[];
  dialogs: string[];
  requests: string[];
}

async function openReport(browser: Browser, file: string): Promise<{ page: Page; log: PageLog }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const log: PageLog = { errors: [], dialogs: [], requests: [] };
  page.on('console', (message) => {
    if (message.type() === 'error') log.errors.push(message.text());
  });
  page.on('pageerror', (error) => log.errors.push(String(error)));
  page.on('request', (request) => log.requests.push(request.url()));
  page.on('dialog', (dialog) => {
    log.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return { page, log };
}

/** The samples the explorer shows now: their ids, and whether each has the badge of `outcome`. */
async function shownSamples(page: Page, outcome?: string) {
  return page.$$eval(
    '#explorer-list .sample',
    (items, badge) =>
      items.map((item) => ({
        id: item.getAttribute('data-id') ?? '',
        subset: item.querySelector('.subset')?.textContent ?? '',
        badged: badge ? item.querySelector(`.badge-${badge}`) !== null : true,
      })),
    outcome,
  );
}

describe.skipIf(skip)('report.html in headless Chromium', () => {
  let browser: Browser;
  let first: string;
  let second: string;
  let screenshotDir: string;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM ?? undefined, args: ['--no-sandbox'] });
    const { file, dir } = writeSimPlan({ sim: { VLLM_SIM_ACCURACY: '0.6' } });
    screenshotDir = dir;
    const runs: string[] = [];
    for (const seed of ['1', '2']) {
      const result = await startCli(['plan', file, '--skip-preflight'], { VLLM_SIM_SEED: seed });
      expect([0, 3], result.all).toContain(result.exitCode);
      runs.push(runDirFrom(result.all));
    }
    [first = '', second = ''] = runs;
    // An answer that tries to end the data block: `evalrig report` writes the page again around it.
    const predictions = join(second, 'evals/quiz/predictions.jsonl');
    const records = readJsonLines<PredictionRecord>(predictions);
    records[0] = { ...records[0]!, content: HOSTILE };
    writeFileSync(predictions, records.map((record) => JSON.stringify(record)).join('\n') + '\n');
    const report = await startCli(['report', second]);
    expect(report.exitCode, report.all).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('opens from disk with every chart drawn, no console error and no request but the file', async () => {
    const file = join(second, 'report.html');
    const { page, log } = await openReport(browser, file);
    const charts = await page.$$eval('canvas[data-chart]', (canvases) =>
      canvases.map((canvas) => {
        const box = canvas.getBoundingClientRect();
        // Chart.js, inlined in the page, keeps each chart it drew on its canvas.
        const drawn = (globalThis as unknown as { Chart: { getChart(on: unknown): unknown } }).Chart.getChart(
          canvas,
        );
        return { id: canvas.id, width: box.width, height: box.height, drawn: drawn !== undefined };
      }),
    );
    expect(charts.map((chart) => chart.id)).toEqual(
      expect.arrayContaining(['scores', 'trend-0', 'latency-0', 'tokens-0', 'phases']),
    );
    for (const chart of charts) {
      expect(chart.drawn, chart.id).toBe(true);
      expect(chart.width, chart.id).toBeGreaterThan(0);
      expect(chart.height, chart.id).toBeGreaterThan(0);
    }
    expect(log.errors).toEqual([]);
    expect(log.dialogs).toEqual([]);
    expect(log.requests).toEqual([pathToFileURL(file).href]);
    // The page down to the first samples: headline, scores, trend, histograms, phases, the explorer's filters.
    await page.screenshot({
      path: join(screenshotDir, 'report.png'),
      fullPage: true,
      clip: { x: 0, y: 0, width: 1280, height: 2400 },
    });
    console.log(`report.html screenshot: ${join(screenshotDir, 'report.png')}`);
    await page.close();
  });

  it('filters the samples: wrong ones as many as the summary counts, flipped ones against the first run', async () => {
    const { page, log } = await openReport(browser, join(second, 'report.html'));
    const summary = readJson<RunSummary>(join(second, 'summary.json'));
    const quiz = summary.evals[0]!;
    const wrong = quiz.num - Math.round((quiz.score ?? 0) * quiz.num);
    expect(wrong).toBeGreaterThan(0);
    await page.click('#explorer [data-filter="wrong"]');
    const shownWrong = await shownSamples(page, 'wrong');
    expect(shownWrong).toHaveLength(Math.min(wrong, 50));
    expect(shownWrong.every((sample) => sample.badged)).toBe(true);
    expect(await page.textContent('#explorer-status')).toContain(`of ${wrong} (wrong)`);

    const before = new Map(
      readJsonLines<PredictionRecord>(join(first, 'evals/quiz/predictions.jsonl')).map((r) => [
        r.id,
        r.correct,
      ]),
    );
    const flipped = readJsonLines<PredictionRecord>(join(second, 'evals/quiz/predictions.jsonl')).filter(
      (record) => before.has(record.id) && before.get(record.id) !== record.correct,
    );
    expect(flipped.length).toBeGreaterThan(0);
    await page.click('#explorer [data-filter="flipped"]');
    const shownFlipped = await shownSamples(page, 'flipped');
    expect(shownFlipped.map((sample) => sample.id).sort()).toEqual(flipped.map((record) => record.id).sort());

    await page.click('#explorer [data-filter="all"]');
    await page.selectOption('#explorer-subset', 'IQ');
    const iq = await shownSamples(page);
    expect(iq.length).toBeGreaterThan(0);
    expect(iq.every((sample) => sample.subset === 'IQ')).toBe(true);
    expect(log.errors).toEqual([]);
    await page.close();
  });

  it('shows an answer with </script> and markup as text, running none of it', async () => {
    const { page, log } = await openReport(browser, join(second, 'report.html'));
    const id = readJsonLines<PredictionRecord>(join(second, 'evals/quiz/predictions.jsonl'))[0]!.id;
    const answer = await page.textContent(`#explorer-list .sample[data-id="${id}"] .answer pre`);
    expect(answer).toBe(HOSTILE);
    expect(await page.$$('#explorer-list img')).toHaveLength(0);
    expect(log.dialogs).toEqual([]);
    expect(log.errors).toEqual([]);
    await page.close();
  });

  it('opens a run of 10,000 samples, building one page of the explorer at a time', async () => {
    const records = Array.from({ length: 10_000 }, (_, index) =>
      prediction({
        id: `IQ-${index}`,
        extracted: index % 4 === 0 ? 'B' : 'A',
        reasoning: '让我们一步一步思考。'.repeat(40),
        latency_ms: 200 + (index % 900),
      }),
    );
    const dir = writeRunFolder(tempDir(), { evals: { quiz: records } });
    writeRunHtmlAndJunit(readRunFolder(dir));
    const { page, log } = await openReport(browser, join(dir, 'report.html'));
    await page.waitForSelector('#explorer-list .sample');
    expect(await page.$$('#explorer-list .sample')).toHaveLength(50);
    await page.click('#explorer [data-filter="wrong"]');
    expect(await page.textContent('#explorer-status')).toContain('of 2500 (wrong)');
    await page.click('#explorer-next');
    expect(await page.textContent('#explorer-page')).toBe('page 2 of 50');
    expect(log.errors).toEqual([]);
    await page.close();
  });
});
