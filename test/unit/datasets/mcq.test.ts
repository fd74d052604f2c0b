import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadMcqDataset } from '../../../src/datasets/mcq/load.js';
import { parseCsv, parseCsvRows, parseJsonl } from '../../../src/datasets/mcq/parse.js';
import { parseGoldAnswer, recordToQuestion, stripOptionPrefix } from '../../../src/datasets/mcq/record.js';
import { DatasetError, formatDatasetProblems } from '../../../src/datasets/problems.js';
import { McqDatasetOptionsSchema } from '../../../src/plan/dataset-options.js';
import { FIXTURES } from '../../paths.js';

const fixtures = join(FIXTURES, 'datasets');
const fixture = (...parts: string[]): string => join(fixtures, ...parts);

const tempDirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'evalrig-mcq-'));
  tempDirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('layout iquiz', () => {
  it('reads a folder of JSONL files, one subset per file, ids <subset>-<line index>', async () => {
    const dataset = await loadMcqDataset({ path: fixture('iquiz-like'), name: 'iquiz-like' });
    expect(dataset.problems).toEqual([]);
    // Files are read in name order, so EQ comes first unless subsets says otherwise.
    expect(dataset.samples.map((s) => s.id)).toEqual(['EQ-0', 'EQ-1', 'IQ-0', 'IQ-1', 'IQ-2', 'IQ-3']);
    const [eq1] = dataset.samples.filter((s) => s.id === 'EQ-1');
    expect(eq1).toEqual({
      id: 'EQ-1',
      subset: 'EQ',
      question: '同事在会议上提出了你先想到的点子。\n你会：',
      choices: ['当场指出那是你的想法', '会后私下和同事沟通', '什么也不做，但心里记恨'],
      answer: 'B',
      meta: { level: 2 },
    });
  });

  it('keeps question text exactly as written (trailing space included)', async () => {
    const dataset = await loadMcqDataset({ path: fixture('iquiz-like', 'IQ.jsonl') });
    expect(dataset.samples[3]?.question).toBe('2, 4, 8, 16, 下一个数是？ ');
  });

  it('orders and filters by the requested subsets, and names the available ones for an unknown subset', async () => {
    const dataset = await loadMcqDataset({ path: fixture('iquiz-like'), subsets: ['IQ', 'EQ'] });
    expect(dataset.samples.map((s) => s.subset)).toEqual(['IQ', 'IQ', 'IQ', 'IQ', 'EQ', 'EQ']);

    const onlyIq = await loadMcqDataset({ path: fixture('iquiz-like'), subsets: ['IQ'] });
    expect(onlyIq.provenance.files.map((f) => f.path)).toEqual([fixture('iquiz-like', 'IQ.jsonl')]);

    await expect(loadMcqDataset({ path: fixture('iquiz-like'), subsets: ['XQ'] })).rejects.toThrow(
      /no subset "XQ"; available: EQ, IQ/,
    );
  });

  it('records sha256 and the record count of every file read', async () => {
    const dataset = await loadMcqDataset({ path: fixture('iquiz-like'), name: 'iquiz-like' });
    const iq = await readFile(fixture('iquiz-like', 'IQ.jsonl'));
    expect(dataset.provenance.name).toBe('iquiz-like');
    expect(dataset.provenance.files).toEqual([
      {
        path: fixture('iquiz-like', 'EQ.jsonl'),
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        records: 2,
      },
      {
        path: fixture('iquiz-like', 'IQ.jsonl'),
        sha256: createHash('sha256').update(iq).digest('hex'),
        records: 4,
      },
    ]);
  });
});

describe('layout general_mcq (EvalScope custom MCQ)', () => {
  const options = { layout: 'general_mcq' } as const;

  it('reads the val split only, strips _val from the subset, takes option columns A, B, C, …', async () => {
    const dataset = await loadMcqDataset({ path: fixture('general-mcq'), options });
    expect(dataset.problems).toEqual([]);
    expect(dataset.provenance.files.map((f) => f.path.split('/').pop())).toEqual([
      'biology_val.csv',
      'physics_val.jsonl',
    ]);
    expect(dataset.samples.map((s) => [s.id, s.answer, s.choices.length])).toEqual([
      ['biology-1', 'B', 4],
      ['biology-2', 'A', 3], // D left empty: a three-option row
      ['biology-3', 'A', 4], // lower-case gold letter
      ['physics-p1', 'B', 5], // A–E
      ['physics-p2', 'C', 3], // gold written "(C)"
    ]);
    expect(dataset.samples[1]?.meta).toEqual({ explanation: '只有三个选项' });
    expect(dataset.samples[3]?.meta).toEqual({ category: 'mechanics' });
  });

  it('reads another split on request, and says which splits exist when the requested one has no files', async () => {
    const dev = await loadMcqDataset({ path: fixture('general-mcq'), options: { ...options, split: 'dev' } });
    expect(dev.samples.map((s) => s.id)).toEqual(['biology-1']);
    expect(dev.samples[0]?.question).toBe('植物进行光合作用的主要场所是____');

    await expect(
      loadMcqDataset({ path: fixture('general-mcq'), options: { ...options, split: 'test', format: 'csv' } }),
    ).rejects.toThrow(/no files for split "test" \(found biology_dev\.csv, biology_val\.csv\)/);
  });

  it('takes the subset from a field when subset_field is set', async () => {
    const dataset = await loadMcqDataset({
      path: fixture('general-mcq', 'physics_val.jsonl'),
      options: { ...options, subset_field: 'category' },
    });
    expect(dataset.samples.map((s) => [s.id, s.subset])).toEqual([
      ['mechanics-p1', 'mechanics'],
      ['optics-p2', 'optics'],
    ]);
    expect(dataset.samples[0]?.meta).toEqual({});
  });
});

describe('layout mapped (AGIEval-style)', () => {
  const options = {
    layout: 'mapped',
    fields: { question: 'question', options: 'options', answer: 'label' },
    strip_option_prefix: true,
  } as const;

  it('strips (A) / （A） / B. / C、 / D) labels and keeps the other fields as meta', async () => {
    const dataset = await loadMcqDataset({ path: fixture('agieval-style', 'geo.jsonl'), options });
    expect(dataset.problems).toEqual([]);
    expect(dataset.samples.map((s) => s.choices)).toEqual([
      ['长江', '黄河', '多瑙河', '珠江'],
      ['①②④', '①③', '②③', '③④'],
      ['自东向西', '自西向东', '自南向北', '自北向南'],
    ]);
    expect(dataset.samples.map((s) => [s.id, s.subset, s.answer])).toEqual([
      ['geo-0', 'geo', 'C'],
      ['geo-1', 'geo', 'A'],
      ['geo-2', 'geo', 'B'],
    ]);
    expect(dataset.samples[0]?.meta).toEqual({
      passage: null,
      answer: null,
      other: { source: 'evalrig 自编练习题' },
    });
  });

  it('keeps the labels without strip_option_prefix', async () => {
    const dataset = await loadMcqDataset({
      path: fixture('agieval-style', 'geo.jsonl'),
      options: { ...options, strip_option_prefix: false },
    });
    expect(dataset.samples[0]?.choices[0]).toBe('(A)长江');
  });

  it('maps option columns and a 1-based numeric gold', async () => {
    const dir = await tempDir();
    const file = join(dir, 'med.csv');
    await writeFile(
      file,
      'qid,text,op1,op2,op3,cop\nm1,Which organ pumps blood?,Lung,Heart,Kidney,2\nm2,Two options only,yes,no,,1\n',
    );
    const dataset = await loadMcqDataset({
      path: file,
      options: {
        layout: 'mapped',
        fields: {
          question: 'text',
          options: ['op1', 'op2', 'op3'],
          answer: 'cop',
          answer_index_base: 1,
          id: 'qid',
        },
      },
    });
    expect(dataset.samples.map((s) => [s.id, s.choices, s.answer])).toEqual([
      ['med-m1', ['Lung', 'Heart', 'Kidney'], 'B'],
      ['med-m2', ['yes', 'no'], 'A'],
    ]);
  });
});

describe('CSV parsing', () => {
  it('handles quoted commas, doubled quotes, line breaks inside fields, CRLF and blank lines', async () => {
    const dataset = await loadMcqDataset({
      path: fixture('csv-quoting', 'tricky_val.csv'),
      options: { layout: 'general_mcq' },
    });
    expect(dataset.problems).toEqual([]);
    expect(dataset.samples.map((s) => [s.id, s.question, s.choices, s.answer])).toEqual([
      [
        'tricky-1',
        'Which list is sorted: "1, 2, 3" or "3, 2, 1"?',
        ['1, 2, 3', '3, 2, 1', 'both', 'neither'],
        'A',
      ],
      [
        'tricky-2',
        'A question\r\nover two lines, with a comma',
        ['yes', 'no', 'multi\nline option', 'maybe'],
        'C',
      ],
      ['tricky-3', 'Plain row', ['x', 'y', 'z', 'w'], 'D'],
    ]);
  });

  it('reports rows by the line they start on', () => {
    const { rows } = parseCsvRows('a,b\n"x\ny",z\n\nlast,row');
    expect(rows).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 2, cells: ['x\ny', 'z'] },
      { line: 5, cells: ['last', 'row'] },
    ]);
  });

  it('counts CRLF, lone CR and non-ASCII text as one line break and one character each', () => {
    const { rows } = parseCsvRows('a,b\r\n"ü\r\nß",z\r\n\r\nlast,row\rend,x');
    expect(rows).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 2, cells: ['ü\r\nß', 'z'] },
      { line: 5, cells: ['last', 'row'] },
      { line: 6, cells: ['end', 'x'] },
    ]);
  });

  it('keeps a quoted empty field and a stray quote inside an unquoted field', () => {
    expect(parseCsvRows('"",a"b\n').rows).toEqual([{ line: 1, cells: ['', 'a"b'] }]);
  });

  it('reports an unterminated quote with its line and reads what came before', () => {
    const parsed = parseCsv('id,question\n1,ok\n2,"never closed\n3,lost\n', 'f.csv');
    expect(parsed.problems).toEqual([
      'f.csv:3: a quoted field is never closed; the rest of the file was not read',
    ]);
    expect(parsed.records).toEqual([
      { file: 'f.csv', line: 2, ok: true, fields: { id: '1', question: 'ok' } },
    ]);
  });

  it('refuses a header that repeats a column', () => {
    expect(parseCsv('A,B,A\n1,2,3\n', 'f.csv').problems).toEqual(['f.csv:1: the header repeats column "A"']);
  });

  it('strips a UTF-8 byte order mark', () => {
    expect(parseCsvRows('\uFEFFid,q\n').rows[0]?.cells).toEqual(['id', 'q']);
    expect(parseJsonl('\uFEFF{"a":1}\n', 'f.jsonl').records).toEqual([
      { file: 'f.jsonl', line: 1, ok: true, fields: { a: 1 } },
    ]);
  });
});

describe('pure helpers', () => {
  it('stripOptionPrefix removes only the label of the option’s own letter', () => {
    expect(stripOptionPrefix('(A)text', 'A')).toBe('text');
    expect(stripOptionPrefix('（B） text', 'B')).toBe('text');
    expect(stripOptionPrefix('C. text', 'C')).toBe('text');
    expect(stripOptionPrefix('C．text', 'C')).toBe('text');
    expect(stripOptionPrefix('D)text', 'D')).toBe('text');
    expect(stripOptionPrefix('E、text', 'E')).toBe('text');
    expect(stripOptionPrefix('(a) text', 'A')).toBe('text');
    expect(stripOptionPrefix('B. text', 'A')).toBe('B. text');
    expect(stripOptionPrefix('Apple', 'A')).toBe('Apple');
  });

  it('parseGoldAnswer accepts letters in several spellings and 0- or 1-based indices', () => {
    const ok = (index: number) => ({ ok: true, index });
    expect(parseGoldAnswer('B', 4)).toEqual(ok(1));
    expect(parseGoldAnswer(' b ', 4)).toEqual(ok(1));
    expect(parseGoldAnswer('(B)', 4)).toEqual(ok(1));
    expect(parseGoldAnswer('（B）', 4)).toEqual(ok(1));
    expect(parseGoldAnswer('B.', 4)).toEqual(ok(1));
    expect(parseGoldAnswer(2, 4)).toEqual(ok(2));
    expect(parseGoldAnswer('2', 4, 1)).toEqual(ok(1));
    expect(parseGoldAnswer('E', 4)).toEqual({
      ok: false,
      error: 'gold answer E is not among the 4 options (A–D)',
    });
    expect(parseGoldAnswer(4, 4)).toMatchObject({ ok: false });
    expect(parseGoldAnswer(0, 4, 1)).toMatchObject({ ok: false });
    expect(parseGoldAnswer('AB', 4)).toEqual({
      ok: false,
      error: 'gold answer "AB" is neither a letter nor an index',
    });
    expect(parseGoldAnswer(['A', 'B'], 4)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/several gold answers/),
    });
    expect(parseGoldAnswer(undefined, 4)).toEqual({ ok: false, error: 'gold answer is missing' });
  });

  it('recordToQuestion applies the layout and copies the fields it did not use into meta', () => {
    const options = McqDatasetOptionsSchema.parse({});
    expect(recordToQuestion({ question: 'q', choices: ['x', 2], answer: 'b', level: 3 }, options)).toEqual({
      ok: true,
      question: 'q',
      choices: ['x', '2'],
      answer: 'B',
      recordId: undefined,
      meta: { level: 3 },
    });
  });

  it('formatDatasetProblems lists up to 20 problems, then how many more', () => {
    const problems = Array.from({ length: 23 }, (_, i) => `f:${i + 1}: bad`);
    const text = formatDatasetProblems(problems);
    expect(text.split('\n')).toHaveLength(21);
    expect(text).toContain('  - f:20: bad');
    expect(text).not.toContain('f:21:');
    expect(text.endsWith('  … and 3 more')).toBe(true);
  });
});

describe('bad records', () => {
  it('are skipped and reported as file:line: why', async () => {
    const file = fixture('bad-records', 'quiz.jsonl');
    const dataset = await loadMcqDataset({ path: file });
    expect(dataset.samples.map((s) => [s.id, s.answer])).toEqual([
      ['quiz-0', 'A'],
      ['quiz-9', 'C'],
    ]);
    expect(dataset.problems).toEqual([
      expect.stringMatching(new RegExp(`^${file}:2: invalid JSON`)),
      `${file}:3: gold answer is missing (field "answer")`,
      `${file}:4: gold answer E is not among the 3 options (A–C) (field "answer")`,
      `${file}:5: there are no options`,
      `${file}:6: only 1 option; a multiple-choice question needs at least 2`,
      `${file}:7: expected a JSON object on this line`,
      `${file}:9: question (field "question") is missing or empty`,
      `${file}:10: option B is empty`,
    ]);
    // The blank line 8 is no record; every other line is.
    expect(dataset.provenance.files[0]?.records).toBe(10);
  });

  it('in a CSV: wrong field count and missing gold', async () => {
    const file = fixture('bad-records', 'rows.csv');
    const dataset = await loadMcqDataset({ path: file, options: { layout: 'general_mcq' } });
    expect(dataset.samples.map((s) => [s.id, s.question])).toEqual([
      ['rows-1', 'ok'],
      ['rows-3', 'unterminated "quote is fine here'],
    ]);
    expect(dataset.problems).toEqual([
      `${file}:3: invalid CSV row: 6 fields, but the header has 5 (an unquoted comma or line break?)`,
      `${file}:5: gold answer is empty (field "answer")`,
    ]);
  });

  it('a duplicate id is reported, the first record kept', async () => {
    const dir = await tempDir();
    const file = join(dir, 'dup.jsonl');
    const record = (answer: string) => JSON.stringify({ id: 7, question: 'q', choices: ['a', 'b'], answer });
    await writeFile(file, `${record('A')}\n${record('B')}\n`);
    const dataset = await loadMcqDataset({ path: file });
    expect(dataset.samples.map((s) => [s.id, s.answer])).toEqual([['dup-7', 'A']]);
    expect(dataset.problems).toEqual([`${file}:2: duplicate id "dup-7" (first at ${file}:1)`]);
  });

  it("on_bad_record: 'fail' throws a DatasetError listing the problems", async () => {
    const file = fixture('bad-records', 'quiz.jsonl');
    const error = await loadMcqDataset({ path: file, options: { on_bad_record: 'fail' } }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DatasetError);
    const message = (error as DatasetError).message;
    expect(message).toContain(`${file}: 8 bad records (on_bad_record: fail):`);
    expect(message).toContain(`  - ${file}:3: gold answer is missing (field "answer")`);
  });

  it("'fail' lists 20 problems and counts the rest", async () => {
    const dir = await tempDir();
    const file = join(dir, 'many.jsonl');
    await writeFile(file, Array.from({ length: 25 }, () => '{"question": "q"}').join('\n'));
    const error = await loadMcqDataset({ path: file, options: { on_bad_record: 'fail' } }).catch(
      (e: unknown) => e,
    );
    const message = (error as DatasetError).message;
    expect(message).toContain(`${file}:20: field "choices" is missing`);
    expect(message).not.toContain(`${file}:21:`);
    expect(message).toMatch(/… and 5 more$/);
  });

  it('a file of nothing but bad records is an error, not an empty dataset', async () => {
    const dir = await tempDir();
    const file = join(dir, 'all-bad.jsonl');
    await writeFile(file, '{"question": "q", "choices": ["a"], "answer": "A"}\n');
    await expect(loadMcqDataset({ path: file })).rejects.toThrow(
      /no usable multiple-choice records; every record was bad/,
    );
  });

  it('a file that is not UTF-8 is reported, not decoded into garbage', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'gbk.jsonl'), Buffer.from([0x7b, 0xc4, 0xe3, 0x7d, 0x0a]));
    await writeFile(join(dir, 'ok.jsonl'), '{"question": "q", "choices": ["a", "b"], "answer": "A"}\n');
    const dataset = await loadMcqDataset({ path: dir });
    expect(dataset.samples.map((s) => s.id)).toEqual(['ok-0']);
    expect(dataset.problems).toEqual([
      `${join(dir, 'gbk.jsonl')}:1: not UTF-8 text; save the file as UTF-8 (GBK and other encodings are not read)`,
    ]);
  });
});

describe('paths and options', () => {
  it('explains a missing path, a folder without data files and an unknown extension', async () => {
    const dir = await tempDir();
    await expect(loadMcqDataset({ path: join(dir, 'nope') })).rejects.toThrow(
      /nope does not exist; check the eval's dataset_path \(a relative path starts at the plan's folder\)/,
    );
    await expect(loadMcqDataset({ path: dir })).rejects.toThrow(/has no \.jsonl or \.csv files/);
    await writeFile(join(dir, 'data.txt'), '{}');
    await expect(loadMcqDataset({ path: join(dir, 'data.txt') })).rejects.toThrow(
      /set format: jsonl or format: csv/,
    );
  });

  it('format picks the files of a folder, and reads a file whatever its extension', async () => {
    const jsonlOnly = await loadMcqDataset({
      path: fixture('general-mcq'),
      options: { layout: 'general_mcq', format: 'jsonl' },
    });
    expect(jsonlOnly.samples.map((s) => s.subset)).toEqual(['physics', 'physics']);

    const dir = await tempDir();
    await writeFile(join(dir, 'data.txt'), '{"question": "q", "choices": ["a", "b"], "answer": "B"}\n');
    const dataset = await loadMcqDataset({ path: join(dir, 'data.txt'), options: { format: 'jsonl' } });
    expect(dataset.samples.map((s) => s.id)).toEqual(['data-0']);
  });

  it('invalid options are a DatasetError naming the key', async () => {
    await expect(
      loadMcqDataset({ path: fixture('iquiz-like'), options: { layout: 'mapped' } }),
    ).rejects.toThrow(/layout mapped needs fields/);
    await expect(loadMcqDataset({ path: fixture('iquiz-like'), limit: 0 })).rejects.toThrow(
      /limit must be a positive integer/,
    );
  });

  it('the schema is strict and fills defaults', () => {
    expect(McqDatasetOptionsSchema.parse({})).toEqual({
      format: 'auto',
      layout: 'iquiz',
      split: 'val',
      strip_option_prefix: false,
      shuffle: false,
      shuffle_choices: false,
      seed: 0,
      repeats: 1,
      on_bad_record: 'skip',
    });
    expect(McqDatasetOptionsSchema.safeParse({ shufle: true }).success).toBe(false);
    expect(
      McqDatasetOptionsSchema.safeParse({
        layout: 'iquiz',
        fields: { question: 'q', options: 'o', answer: 'a' },
      }).success,
    ).toBe(false);
    expect(
      McqDatasetOptionsSchema.parse({
        layout: 'mapped',
        fields: { question: 'q', options: ['A', 'B'], answer: 'a' },
      }).fields,
    ).toEqual({ question: 'q', options: ['A', 'B'], answer: 'a', answer_index_base: 0 });
  });
});
