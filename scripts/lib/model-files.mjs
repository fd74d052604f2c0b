// A ModelScope model repository's file list, and a local copy checked against it: every file present with its
// size and sha256. A copy that passed leaves a record beside the weights, so a later check needs no network
// and no hashing: the recorded files still there at their recorded sizes.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

export const VERIFIED_RECORD = '.evalrig-verified.json';

/** `MODELSCOPE_DOMAIN` names a host, as the modelscope SDK reads it (a value with a scheme is taken as it is). */
export function modelScopeEndpoint(env) {
  const domain = env.MODELSCOPE_DOMAIN?.trim();
  if (!domain) return 'https://www.modelscope.cn';
  return /^https?:\/\//.test(domain) ? domain.replace(/\/+$/, '') : `https://${domain}`;
}

/** The SDK's `HubApi.get_model_files(recursive=True)` request (`modelscope/hub/api.py`). */
export function fileListUrl(endpoint, model, revision) {
  const query = new URLSearchParams({ Revision: revision, Recursive: 'True' });
  return `${endpoint}/api/v1/models/${model}/repo/files?${query}`;
}

/** The files (not folders) of the repository: `{ path, size, sha256 }`, sha256 absent where the list has none. */
export async function fetchModelFiles({ endpoint, model, revision, timeoutMs = 60_000 }) {
  const url = fileListUrl(endpoint, model, revision);
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  const body = await response.json();
  if (body?.Code !== 200 || !Array.isArray(body?.Data?.Files))
    throw new Error(`GET ${url}: no file list in the answer (${body?.Message ?? 'no message'})`);
  const files = body.Data.Files.filter((file) => file.Type !== 'tree').map((file) => ({
    path: String(file.Path),
    size: Number(file.Size),
    ...(file.Sha256 ? { sha256: String(file.Sha256).toLowerCase() } : {}),
  }));
  const unsafe = files.find((file) => isAbsolute(file.path) || file.path.split('/').includes('..'));
  if (unsafe) throw new Error(`GET ${url}: refusing the file path ${unsafe.path}`);
  return files;
}

/** Bytes still to download: the files missing or of another size than listed. */
export function bytesMissing(dir, files) {
  return files.reduce((sum, file) => sum + (sizeOf(join(dir, file.path)) === file.size ? 0 : file.size), 0);
}

function sizeOf(path) {
  return existsSync(path) ? statSync(path).size : undefined;
}

function sha256Of(path) {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** Every problem of the local copy, one line each: missing files, wrong sizes, then wrong sha256. */
export async function problemsOfCopy(dir, files, onHashed = () => {}) {
  const problems = [];
  for (const file of files) {
    const size = sizeOf(join(dir, file.path));
    if (size === undefined) problems.push(`${file.path}: missing`);
    else if (size !== file.size) problems.push(`${file.path}: ${size} bytes, the list says ${file.size}`);
  }
  if (problems.length > 0) return problems;
  for (const file of files.filter((f) => f.sha256)) {
    const actual = await sha256Of(join(dir, file.path));
    if (actual !== file.sha256) problems.push(`${file.path}: sha256 ${actual}, the list says ${file.sha256}`);
    onHashed(file);
  }
  return problems;
}

export function writeVerifiedRecord(dir, record) {
  writeFileSync(join(dir, VERIFIED_RECORD), `${JSON.stringify(record, null, 2)}\n`);
}

/** The record of an earlier full check of this model and revision, when its files are all still as recorded. */
export function verifiedRecordThatHolds(dir, model, revision) {
  const path = join(dir, VERIFIED_RECORD);
  if (!existsSync(path)) return undefined;
  let record;
  try {
    record = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
  if (record.model !== model || record.revision !== revision || !Array.isArray(record.files))
    return undefined;
  return record.files.every((file) => sizeOf(join(dir, file.path)) === file.size) ? record : undefined;
}
