import { CsvError, parse as parseCsvText } from 'csv-parse/sync';

/** Reading records out of JSONL and CSV text, before a layout gives them meaning. */

/** One record as it sits in a file; `ok: false` when it could not be read. */
export type RawRecord = { file: string; line: number } & (
  { ok: true; fields: Record<string, unknown> } | { ok: false; error: string }
);

export interface ParsedFile {
  records: RawRecord[];
  /** Problems with the file as a whole (bad CSV header, unterminated quote), as `file:line: why`. */
  problems: string[];
}

function stripByteOrderMark(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One JSON object per non-blank line. */
export function parseJsonl(text: string, file: string): ParsedFile {
  const records: RawRecord[] = [];
  stripByteOrderMark(text)
    .split(/\r?\n/)
    .forEach((content, index) => {
      const line = index + 1;
      if (content.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(content);
      } catch (error) {
        records.push({ file, line, ok: false, error: `invalid JSON (${(error as Error).message})` });
        return;
      }
      if (isPlainObject(value)) records.push({ file, line, ok: true, fields: value });
      else records.push({ file, line, ok: false, error: 'expected a JSON object on this line' });
    });
  return { records, problems: [] };
}

export interface CsvRow {
  /** Line on which the row starts; a quoted field may carry it over several lines. */
  line: number;
  cells: string[];
}

export interface CsvRows {
  rows: CsvRow[];
  /** Set when the text stops being CSV part way: the line of the record that could not be read, and why. */
  unreadable?: { line: number; reason: string };
}

const CR = 0x0d;
const LF = 0x0a;

/**
 * Turns byte offsets, asked for in increasing order, into 1-based line numbers. `\r\n`, `\n` and a lone `\r` each
 * end a line: csv-parse's own line count takes `\r\n` inside a quoted field for two.
 */
function lineCounter(bytes: Uint8Array): (offset: number) => number {
  let position = 0;
  let line = 1;
  return (offset) => {
    for (; position < offset; position++) {
      const byte = bytes[position];
      if (byte === LF || (byte === CR && bytes[position + 1] !== LF)) line++;
    }
    return line;
  };
}

/**
 * RFC 4180 CSV through csv-parse: comma separated, `"` quotes fields that hold commas, quotes (doubled) or line
 * breaks. Like Python's csv module it keeps a stray quote inside an unquoted field as text. Blank lines are skipped.
 */
export function parseCsvRows(text: string): CsvRows {
  // Offsets from csv-parse count UTF-8 bytes, so lines are counted over the same bytes.
  const bytes = Buffer.from(stripByteOrderMark(text), 'utf8');
  const lineAt = lineCounter(bytes);
  /** Where the next record may begin: just past the previous one and its line break. */
  let nextRecordAt = 0;
  /** Skips the blank lines csv-parse skips, so a row's line is that of its first character. */
  const recordStart = (): number => {
    let offset = nextRecordAt;
    while (bytes[offset] === CR || bytes[offset] === LF) offset++;
    return offset;
  };

  const rows: CsvRow[] = [];
  try {
    parseCsvText(bytes, {
      record_delimiter: ['\r\n', '\n', '\r'],
      relax_quotes: true,
      relax_column_count: true,
      skip_empty_lines: true,
      // Rows are collected here rather than returned, so those before a fatal error are kept.
      on_record: (cells: string[], context) => {
        rows.push({ line: lineAt(recordStart()), cells });
        nextRecordAt = context.bytes;
        return null;
      },
    });
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    const reason =
      error.code === 'CSV_QUOTE_NOT_CLOSED'
        ? 'a quoted field is never closed'
        : `invalid CSV (${error.message})`;
    return { rows, unreadable: { line: lineAt(recordStart()), reason } };
  }
  return { rows };
}

/** A CSV file with a header row; every other row becomes a record keyed by the header's column names. */
export function parseCsv(text: string, file: string): ParsedFile {
  const { rows, unreadable } = parseCsvRows(text);
  const problems: string[] = [];
  if (unreadable) {
    problems.push(`${file}:${unreadable.line}: ${unreadable.reason}; the rest of the file was not read`);
  }
  const [header, ...dataRows] = rows;
  if (!header) return { records: [], problems };

  const columns = header.cells.map((name) => name.trim());
  const duplicates = columns.filter((name, index) => columns.indexOf(name) !== index);
  if (duplicates.length > 0) {
    problems.push(
      `${file}:${header.line}: the header repeats column ${[...new Set(duplicates)].map((d) => `"${d}"`).join(', ')}`,
    );
    return { records: [], problems };
  }

  const records = dataRows.map((row): RawRecord => {
    if (row.cells.length !== columns.length) {
      return {
        file,
        line: row.line,
        ok: false,
        error: `invalid CSV row: ${row.cells.length} fields, but the header has ${columns.length} (an unquoted comma or line break?)`,
      };
    }
    const fields = Object.fromEntries(columns.map((name, index) => [name, row.cells[index]]));
    return { file, line: row.line, ok: true, fields };
  });
  return { records, problems };
}
