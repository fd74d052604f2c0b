/** Counts per bin for one group of values (e.g. the correct answers). */
export interface HistogramSeries {
  name: string;
  counts: number[];
}

/** Bins of equal, round width: bin i holds values from edges[i] up to (not including) edges[i + 1]. */
export interface Histogram {
  edges: number[];
  series: HistogramSeries[];
}

/** The smallest of 1, 2, 5 × 10^k that is at least `raw`, so that bin edges read as round numbers. */
function roundStep(raw: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((factor) => factor * magnitude).find((step) => step >= raw) ?? 10 * magnitude;
}

/**
 * A histogram of `points` with about `targetBins` bins of a round width, at least 1 (the values are milliseconds
 * and token counts), one series per group in `groups` (stacked in the chart); null without points.
 */
export function histogram(
  points: readonly { value: number; group: string }[],
  groups: readonly string[],
  targetBins = 20,
): Histogram | null {
  if (points.length === 0) return null;
  let min = Infinity;
  let max = -Infinity;
  for (const { value } of points) {
    min = Math.min(min, value);
    max = Math.max(max, value);
  }
  const step = roundStep(Math.max((max - min) / targetBins, 1));
  const start = Math.floor(min / step) * step;
  const binCount = Math.max(1, Math.floor((max - start) / step) + 1);
  const edges = Array.from({ length: binCount + 1 }, (_, index) => start + index * step);
  const series = groups.map((name) => ({ name, counts: new Array<number>(binCount).fill(0) }));
  const byName = new Map(series.map((entry) => [entry.name, entry.counts]));
  for (const { value, group } of points) {
    const counts = byName.get(group);
    if (!counts) continue;
    const bin = Math.min(binCount - 1, Math.floor((value - start) / step));
    counts[bin] = (counts[bin] ?? 0) + 1;
  }
  return { edges, series };
}
