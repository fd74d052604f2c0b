import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import escapeHtml from 'escape-html';
import serialize from 'serialize-javascript';
import { packageRoot } from '../../util/package-root.js';

/**
 * What report.html inlines, so that it opens from disk with no network: the charting library, the page's own
 * scripts and style, and the data as JSON.
 */

export { escapeHtml };

/**
 * A `<script type="application/json">` block. `<`, `>` and `/` are written as \u escapes (serialize-javascript), so
 * that no text in the data (`</script>` in a model's answer) can end the block; JSON.parse reads them back as is.
 */
export function jsonScript(id: string, value: unknown): string {
  return `<script type="application/json" id="${escapeHtml(id)}">${serialize(value, { isJSON: true })}</script>`;
}

/** Code inlined as it is: it must not hold the closing tag that would end its element early. */
function guardedElement(tag: 'script' | 'style', code: string, what: string): string {
  if (code.toLowerCase().includes(`</${tag}`))
    throw new Error(`${what} contains </${tag}> and cannot be inlined`);
  return `<${tag}>\n${code}\n</${tag}>`;
}

export const inlineScript = (code: string, what: string) => guardedElement('script', code, what);
export const inlineStyle = (code: string, what: string) => guardedElement('style', code, what);

const cache = new Map<string, string>();

function cachedRead(file: string, transform: (text: string) => string = (text) => text): string {
  let text = cache.get(file);
  if (text === undefined) {
    text = transform(readFileSync(file, 'utf8'));
    cache.set(file, text);
  }
  return text;
}

/**
 * Chart.js's minified UMD bundle (it sets `window.Chart`), without its source map comment: the map is not shipped
 * in the page. The package's exports do not list the bundle, so it is found beside the package's main file.
 */
export function chartJsBundle(): string {
  const main = createRequire(import.meta.url).resolve('chart.js');
  return cachedRead(join(dirname(main), 'chart.umd.min.js'), (text) =>
    text.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'),
  );
}

/** A script or style sheet of the page, from src/report/html/client/ (plain browser code, shipped as it is). */
export function clientAsset(name: string): string {
  return cachedRead(join(packageRoot(), 'src/report/html/client', name));
}
