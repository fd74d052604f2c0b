import type { DatasetProvenance } from '../datasets/types.js';
import type { EvalSpec, Plan } from '../plan/schema.js';
import type { RunDisplay } from '../report/display.js';
import type { Endpoint, EvalResult } from './types.js';

export interface EvalContext {
  runDir: string;
  /** evals/<name>/ in the run directory, created before run() is called. */
  evalDir: string;
  /** Folder of the plan file: relative dataset paths resolve against it. */
  planDir: string;
  /** Aborted on interruption or when the server dies: stop promptly, keep what is on disk. */
  signal: AbortSignal;
  display: RunDisplay;
  /** The plan's dataset settings (cache folder, offline mode). */
  datasets: Plan['datasets'];
  /** Records the files an evaluation read, with checksums, in the manifest. */
  recordDataset(provenance: DatasetProvenance): void;
}

/** One way of evaluating (native, evalscope, perf): a spec and a ready endpoint in, a result out. */
export interface Evaluator {
  backend: EvalSpec['backend'];
  run(spec: EvalSpec, endpoint: Endpoint, ctx: EvalContext): Promise<EvalResult>;
}
