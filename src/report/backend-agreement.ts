import type { PredictionRecord } from '../eval/types.js';
import type { RunSummary } from '../run/summary.js';

/** A sample both backends answered whose extracted letters differ. */
export interface Disagreement {
  id: string;
  subset: string;
  gold: string;
  native: string | null;
  evalscope: string | null;
}

/** A native evaluation and an EvalScope evaluation of the same dataset, sample by sample. */
export interface BackendAgreement {
  native: string;
  evalscope: string;
  dataset: string;
  /** Samples found in both. */
  matched: number;
  disagreements: Disagreement[];
}

/** The question of an MCQ prompt, so that both backends' renderings of one sample meet; else the whole prompt. */
function questionOf(prompt: string): string {
  return (/问题：([\s\S]*?)\n选项：/.exec(prompt)?.[1] ?? prompt).trim();
}

/** Pairs the samples by question text, then those left by sample id, and keeps those whose letters differ. */
export function compareBackends(
  native: readonly PredictionRecord[],
  evalscope: readonly PredictionRecord[],
): Pick<BackendAgreement, 'matched' | 'disagreements'> {
  const byQuestion = new Map(evalscope.map((record) => [questionOf(record.prompt), record]));
  const byId = new Map(evalscope.map((record) => [record.id, record]));
  const paired = new Set<PredictionRecord>();
  const disagreements: Disagreement[] = [];
  for (const record of native) {
    const candidates = [byQuestion.get(questionOf(record.prompt)), byId.get(record.id)];
    const other = candidates.find((candidate) => candidate !== undefined && !paired.has(candidate));
    if (!other) continue;
    paired.add(other);
    if (record.extracted !== other.extracted)
      disagreements.push({
        id: record.id,
        subset: record.subset,
        gold: record.gold,
        native: record.extracted,
        evalscope: other.extracted,
      });
  }
  return { matched: paired.size, disagreements };
}

/**
 * Each native evaluation beside each EvalScope evaluation whose datasets include its dataset. An EvalScope
 * evaluation of several datasets names its subsets and samples `<dataset>/…`; only that dataset's are taken.
 */
export function backendAgreements(
  summary: RunSummary,
  predictionsOf: (evalName: string) => PredictionRecord[],
): BackendAgreement[] {
  const natives = summary.evals.filter((e) => e.backend === 'native');
  const evalscopes = summary.evals.filter((e) => e.backend === 'evalscope');
  return natives.flatMap((native) =>
    evalscopes
      .filter((evalscope) => evalscope.dataset.split(',').includes(native.dataset))
      .map((evalscope) => {
        const several = evalscope.dataset.includes(',');
        const prefix = `${native.dataset}/`;
        const records = predictionsOf(evalscope.name)
          .filter((record) => !several || record.subset.startsWith(prefix))
          .map((record) =>
            several
              ? { ...record, id: record.id.slice(prefix.length), subset: record.subset.slice(prefix.length) }
              : record,
          );
        const compared = compareBackends(predictionsOf(native.name), records);
        return { native: native.name, evalscope: evalscope.name, dataset: native.dataset, ...compared };
      }),
  );
}

const letter = (extracted: string | null): string =>
  extracted === null || extracted === '' ? '-' : extracted;

/** report.md's section: per pair, the disagreements counted, then listed. */
export function renderBackendAgreement(agreements: readonly BackendAgreement[]): string[] {
  if (agreements.length === 0) return [];
  const lines = ['', '## Native and EvalScope side by side', ''];
  for (const pair of agreements) {
    lines.push(
      `- \`${pair.native}\` and \`${pair.evalscope}\` on ${pair.dataset}: ${pair.disagreements.length} of ${pair.matched} samples extracted differently`,
    );
    for (const sample of pair.disagreements)
      lines.push(
        `  - ${sample.id} (${sample.subset}): native ${letter(sample.native)}, EvalScope ${letter(sample.evalscope)}, gold ${sample.gold}`,
      );
  }
  return lines;
}
