import type { PredictionRecord } from '../../eval/types.js';
import type { RunSummary } from '../../run/summary.js';
import type { RunFolder } from '../run-folder.js';
import { distributionsSection } from './distributions.js';
import { explorerData, explorerSection } from './explorer.js';
import { headlineSection } from './headline.js';
import { renderPage } from './page.js';
import { phasesSection } from './phases.js';
import { scoresSection } from './scores.js';
import type { TrendPoint } from '../../history/record.js';
import { trendSection } from './trend.js';

/** Predictions by evaluation name. */
export type PredictionsByEval = ReadonlyMap<string, readonly PredictionRecord[]>;

/** What report.html of a run is made of; the renderer reads no file. */
export interface RunPageInput {
  folder: RunFolder;
  predictions: PredictionsByEval;
  /** The run this one is compared with, when its folder could be read. */
  compared: { summary: RunSummary; predictions: PredictionsByEval } | null;
  /** Scores of the plan's runs by evaluation, oldest first (the run history); empty where there is none. */
  trend: ReadonlyMap<string, readonly TrendPoint[]>;
}

export function renderRunHtml({ folder, predictions, compared, trend }: RunPageInput): string {
  const { summary, manifest } = folder;
  const evals = summary.evals.map(({ name }) => ({ name, records: predictions.get(name) ?? [] }));
  return renderPage({
    title: `${summary.plan}: ${summary.status.toUpperCase()}`,
    sections: [
      headlineSection(summary),
      scoresSection(summary, compared?.summary ?? null),
      trendSection(trend),
      distributionsSection(evals),
      phasesSection(manifest),
      explorerSection(),
    ],
    explorer: explorerData(evals, compared?.predictions ?? null),
  });
}
