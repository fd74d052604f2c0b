import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DatasetError } from '../../../src/datasets/problems.js';
import { datasetLoader } from '../../../src/datasets/registry.js';
import type { DatasetContext } from '../../../src/datasets/types.js';

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'datasets');
/** Offline, so a loader that would download fails instead of reaching the network. */
const context: DatasetContext = { baseDir: fixtures, offline: true };

const tempDirs: string[] = [];
afterEach(async () => {
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('datasetLoader', () => {
  it('has a loader under each name the plan allows', () => {
    expect(datasetLoader('iquiz').name).toBe('iquiz');
    expect(datasetLoader('mcq').name).toBe('mcq');
  });

  it('mcq: reads dataset_path relative to the base folder, with subsets, limit and options', async () => {
    const dataset = await datasetLoader('mcq').load(
      { name: 'quiz', dataset_path: 'iquiz-like', subsets: ['IQ'], limit: 1, mcq: { repeats: 2 } },
      context,
    );
    expect(dataset.provenance.name).toBe('quiz');
    expect(dataset.samples.map((s) => s.id)).toEqual(['IQ-0#r1', 'IQ-0#r2']);
  });

  it('iquiz: a local dataset_path, the limit taken after a seeded shuffle', async () => {
    const request = { name: 'iq', dataset_path: 'iquiz-like', limit: 2, mcq: { shuffle: true, seed: 5 } };
    const dataset = await datasetLoader('iquiz').load(request, context);
    expect(dataset.provenance.name).toBe('iquiz');
    expect(dataset.samples.map((s) => s.subset)).toEqual(['IQ', 'IQ', 'EQ', 'EQ']);
    expect((await datasetLoader('iquiz').load(request, context)).samples).toEqual(dataset.samples);
  });

  it("iquiz: on_bad_record 'fail' throws a DatasetError listing the bad records", async () => {
    const folder = await mkdtemp(join(tmpdir(), 'evalrig-registry-'));
    tempDirs.push(folder);
    await writeFile(
      join(folder, 'IQ.jsonl'),
      '{"question":"q","choices":["a","b"],"answer":"A"}\nnot json\n',
    );
    const request = {
      name: 'iq',
      dataset_path: folder,
      subsets: ['IQ'],
      mcq: { on_bad_record: 'fail' as const },
    };
    const error = await datasetLoader('iquiz')
      .load(request, context)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DatasetError);
    expect((error as DatasetError).message).toContain(
      `iq: bad records in ${folder} (mcq.on_bad_record: fail):\n  - ${join(folder, 'IQ.jsonl')}:2: invalid JSON`,
    );
  });
});
