import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PredictionRecord } from '../../../src/eval/types.js';
import { distributionsSection } from '../../../src/report/html/distributions.js';
import { jsonScript } from '../../../src/report/html/embed.js';
import { clip, explorerData, textLimit, type ExplorerData } from '../../../src/report/html/explorer.js';
import { phasesSection } from '../../../src/report/html/phases.js';
import { renderRunHtml } from '../../../src/report/html/run-page.js';
import { scoresSection } from '../../../src/report/html/scores.js';
import type { Section } from '../../../src/report/html/section.js';
import { trendSection } from '../../../src/report/html/trend.js';
import { readRunFolder } from '../../../src/report/run-folder.js';
import { writeRunHtmlAndJunit } from '../../../src/report/run-reports.js';
import { evalSummaryOf, prediction, runSummary, tempDir, writeRunFolder } from './run-fixture.js';

const HOSTILE = '</script><script>alert("x")</script><!-- <img src=x onerror=alert(1)> & </SCRIPT >';

/** The JSON of a `<script type="application/json">` block, read as a browser would: up to the first `</script`. */
function jsonBlock<T>(html: string, id: string): T {
  const start = html.indexOf(`<script type="application/json" id="${id}">`);
  const open = html.indexOf('>', start) + 1;
  return JSON.parse(html.slice(open, html.toLowerCase().indexOf('</script', open))) as T;
}

function pageOf(records: PredictionRecord[], summary: Parameters<typeof runSummary>[2] = {}): string {
  const folder = {
    dir: '/runs/now',
    summary: runSummary('/runs/now', [evalSummaryOf('quiz', records)], summary),
    manifest: null,
  };
  return renderRunHtml({
    folder,
    predictions: new Map([['quiz', records]]),
    compared: null,
    trend: new Map(),
  });
}

describe('report.html escaping', () => {
  it('keeps </script> and markup in an answer inside the data block, read back unchanged', () => {
    const html = pageOf([prediction({ id: 'IQ-0', content: HOSTILE, reasoning: HOSTILE, prompt: HOSTILE })]);
    const data = jsonBlock<ExplorerData>(html, 'explorer-data');
    expect(data.evals[0]?.samples[0]).toMatchObject({
      content: HOSTILE,
      reasoning: HOSTILE,
      prompt: HOSTILE,
    });
    // Five scripts: the two data blocks, Chart.js, the chart and explorer scripts; nothing from the data.
    expect(html.match(/<script\b/gi)).toHaveLength(5);
    expect(html.match(/<\/script/gi)).toHaveLength(5);
    const outsideData = html.replace(/<script type="application\/json"[^>]*>.*?<\/script>/gs, '');
    expect(outsideData).not.toContain('alert(');
  });

  it('escapes text from the run in the page markup', () => {
    const html = pageOf([prediction({ id: 'IQ-0' })], {
      model: '<b>model</b>',
      error: 'failed: <i>x</i> & y',
    });
    expect(html).toContain('&lt;b&gt;model&lt;/b&gt;');
    expect(html).toContain('failed: &lt;i&gt;x&lt;/i&gt; &amp; y');
    expect(html).not.toContain('<b>model');
  });

  it('escapes what ends a script block, keeping the JSON valid', () => {
    const block = jsonScript('data', { text: '</script>\u2028<!--' });
    expect(block).not.toMatch(/<\/script>.*<\/script>/);
    expect(jsonBlock<{ text: string }>(block, 'data').text).toBe('</script>\u2028<!--');
  });
});

describe('the explorer data', () => {
  it('marks the samples whose verdict flipped against the compared run, with its answer', () => {
    const now = [prediction({ id: '1' }), prediction({ id: '2', extracted: 'C' }), prediction({ id: '3' })];
    const before = [prediction({ id: '1', extracted: 'B' }), prediction({ id: '2', extracted: 'D' })];
    const data = explorerData([{ name: 'quiz', records: now }], new Map([['quiz', before]]));
    expect(data.evals[0]?.compared).toBe(true);
    expect(data.evals[0]?.samples.map((sample) => sample.flipped)).toEqual([
      { extracted: 'B', correct: false },
      null,
      null,
    ]);
    expect(explorerData([{ name: 'quiz', records: now }], null).evals[0]?.compared).toBe(false);
  });

  it('keeps texts whole for a small run and clips them for a large one', () => {
    expect(textLimit(120)).toBe(4000);
    expect(textLimit(10_000)).toBe(300);
    const text = `${'a'.repeat(500)}${'b'.repeat(500)}`;
    const clipped = clip(text, 300);
    expect(clipped.startsWith('a'.repeat(150))).toBe(true);
    expect(clipped.endsWith('b'.repeat(150))).toBe(true);
    expect(clipped).toContain('700 characters left out (predictions.jsonl has the whole text)');
    expect(clip('short', 300)).toBe('short');
  });

  it('never cuts an emoji in half', () => {
    const clipped = clip('😀'.repeat(400), 301);
    expect(clipped).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });

  it('keeps a 10,000-sample page of long Chinese texts near 30 MB, texts clipped', () => {
    const long = (seed: string, length: number) =>
      seed.repeat(Math.ceil(length / seed.length)).slice(0, length);
    const records = Array.from({ length: 10_000 }, (_, index) =>
      prediction({
        id: `IQ-${index}`,
        extracted: index % 3 === 0 ? 'B' : 'A',
        prompt: long('回答下面的单项选择题', 2_000),
        reasoning: long('让我们一步一步思考', 8_000),
        content: long('根据以上分析，答案：A', 1_000),
        latency_ms: 300 + (index % 700),
      }),
    );
    const html = pageOf(records);
    expect(Buffer.byteLength(html)).toBeLessThan(32 * 1024 * 1024);
    expect(jsonBlock<ExplorerData>(html, 'explorer-data').evals[0]?.samples).toHaveLength(10_000);
  });
});

describe('report.html sections', () => {
  it('scores: intervals and the change against the compared run, overall and per subset', () => {
    const records = [prediction({ id: 'IQ-0' }), prediction({ id: 'EQ-0', subset: 'EQ', extracted: 'B' })];
    const quiz = { ...evalSummaryOf('quiz', records), ci95: [0.1, 0.9] as [number, number], delta: 0.25 };
    const compared = runSummary('/earlier', [
      { ...evalSummaryOf('quiz', records), subsets: [{ name: 'IQ', num: 1, score: 0.5 }] },
    ]);
    const html = scoresSection(runSummary('/now', [quiz]), compared).html;
    expect(html).toContain(
      '<td>OVERALL</td><td class="num">2</td><td class="num">0.5</td><td class="num">0.1 – 0.9</td><td class="num">+0.25</td>',
    );
    expect(html).toContain(
      '<td>IQ</td><td class="num">1</td><td class="num">1.0</td><td class="num">-</td><td class="num">+0.5</td>',
    );
    expect(html).toContain(
      '<td>EQ</td><td class="num">1</td><td class="num">0.0</td><td class="num">-</td><td class="num">-</td>',
    );
  });

  it("scores: an interrupted evaluation's figures on one row, without interval or chart", () => {
    const records = [prediction({ id: 'IQ-0' }), prediction({ id: 'IQ-1', extracted: 'B' })];
    const stopped = {
      ...evalSummaryOf('quiz', records),
      status: 'interrupted' as const,
      error: 'stopped by SIGINT',
    };
    const section = scoresSection(runSummary('/now', [stopped], { status: 'interrupted' }), null);
    expect(section.html).toContain(
      '<td>quiz</td><td>INTERRUPTED</td><td class="num">2</td><td class="num">0.5</td><td class="num">-</td><td class="num">-</td>',
    );
    expect(section.charts).toEqual({});
  });

  it('latency and tokens: histograms of the answered samples, split into correct and wrong', () => {
    const records = [
      prediction({ id: '1', latency_ms: 100 }),
      prediction({ id: '2', latency_ms: 150, extracted: 'B' }),
      prediction({
        id: '3',
        latency_ms: 9_000,
        error: 'HTTP 500',
        extracted: null,
        usage: null,
        ttft_ms: null,
      }),
    ];
    const charts: Section['charts'] = distributionsSection([{ name: 'quiz', records }])?.charts ?? {};
    const counts = (id: string, series: number) => charts[id]?.data.datasets[series]?.data as number[];
    expect(counts('latency-0', 0).reduce((a, b) => a + b, 0)).toBe(1);
    expect(counts('latency-0', 1).reduce((a, b) => a + b, 0)).toBe(1);
    expect(charts['tokens-0']?.data.labels?.[0]).toBe('100–101');
    expect(distributionsSection([{ name: 'quiz', records: [] }])).toBeNull();
  });

  it('phases: each phase from the start of the first, from manifest.json', () => {
    const folder = readRunFolder(writeRunFolder(tempDir(), { evals: { quiz: [prediction({ id: '1' })] } }));
    const section = phasesSection(folder.manifest);
    expect(section?.charts.phases?.data.labels).toEqual(['datasets', 'start', 'ready', 'eval:quiz', 'stop']);
    expect(section?.charts.phases?.data.datasets[0]?.data[2]).toEqual([0.025, 30.025]);
    expect(phasesSection(null)).toBeNull();
  });

  it('trend: a line per evaluation with at least two runs', () => {
    const point = (score: number | null) => ({
      run_dir: '/r',
      started_at: '2026-12-01T10:00:00Z',
      score,
      status: 'ok',
    });
    expect(trendSection(new Map([['quiz', [point(0.5)]]]))).toBeNull();
    const section = trendSection(new Map([['quiz', [point(0.5), point(null), point(0.7)]]]));
    expect(section?.charts['trend-0']?.data.datasets[0]?.data).toEqual([0.5, null, 0.7]);
  });

  it('writes report.html with every section for a run folder', () => {
    const dir = writeRunFolder(tempDir(), { evals: { quiz: [prediction({ id: '1' })] } });
    writeRunHtmlAndJunit(readRunFolder(dir));
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    for (const id of ['headline', 'scores', 'distributions', 'phases', 'explorer'])
      expect(html).toContain(`id="${id}"`);
    expect(html).toContain("default-src 'none'");
  });
});
