/** One multiple-choice question, whatever file layout it came from. */
export interface Sample {
  /** Stable within a dataset: `<subset>-<index>` for IQuiz, the record id where the data has one. */
  id: string;
  subset: string;
  question: string;
  /** Option texts without letter prefixes, in order A, B, C, ... */
  choices: string[];
  /** Gold letter, upper case. */
  answer: string;
  meta: Record<string, unknown>;
}

/** Where a dataset came from, recorded in the manifest so a run can be reproduced. */
export interface DatasetProvenance {
  name: string;
  files: { path: string; sha256: string; records: number }[];
}

export interface LoadedDataset {
  samples: Sample[];
  provenance: DatasetProvenance;
  /** Records that were skipped, with file:line and why. */
  problems: string[];
}
