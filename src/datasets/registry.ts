import type { NativeEvalSpec } from '../plan/schema.js';
import { iquizLoader } from './iquiz.js';
import { mcqLoader } from './mcq/load.js';
import type { DatasetLoader } from './types.js';

export type DatasetName = NativeEvalSpec['dataset'];

/** Every dataset the plan can name, each under its own name; a new dataset is its loader plus one line here. */
const loaders: { [Name in DatasetName]: DatasetLoader<Name> } = {
  iquiz: iquizLoader,
  mcq: mcqLoader,
};

export function datasetLoader(name: DatasetName): DatasetLoader {
  return loaders[name];
}
