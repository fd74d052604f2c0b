/** Every benchmark ends with one line per figure, `name: value (target …): ok|miss`, and exits 1 on a miss. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  target: number;
  /** `max`: value must be ≤ target; `min`: ≥ target. */
  kind: 'max' | 'min';
}

export function reportFigures(figures: Figure[]): never {
  let missed = false;
  for (const figure of figures) {
    const ok = figure.kind === 'max' ? figure.value <= figure.target : figure.value >= figure.target;
    if (!ok) missed = true;
    const sign = figure.kind === 'max' ? '≤' : '≥';
    const value = Number.isInteger(figure.value) ? String(figure.value) : figure.value.toFixed(3);
    console.log(
      `${figure.name}: ${value}${figure.unit} (target ${sign} ${figure.target}${figure.unit}): ${ok ? 'ok' : 'miss'}`,
    );
  }
  process.exit(missed ? 1 : 0);
}
