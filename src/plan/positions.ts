import { isMap, isPair, isScalar, LineCounter, type Document, type Node } from 'yaml';

export interface SourcePosition {
  line: number;
  col: number;
}

/**
 * Where a plan path points in the YAML source. For a key that should not be there, pass `key` to get the
 * position of the key itself rather than of its parent object.
 */
export function positionOf(
  doc: Document,
  counter: LineCounter,
  path: readonly PropertyKey[],
  key?: string,
): SourcePosition | undefined {
  // Walk up to the nearest node that exists: a missing key is reported at its parent.
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth) as (string | number)[], true) as Node | undefined;
    if (!node) continue;
    let offset = node.range?.[0];
    if (depth === path.length && key !== undefined && isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === key);
      if (pair && isScalar(pair.key)) offset = pair.key.range?.[0];
    }
    if (offset === undefined) continue;
    return counter.linePos(offset);
  }
  return undefined;
}
