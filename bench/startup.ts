/**
 * Start-up time: `evalrig --help`, `evalrig plan --help`, `evalrig validate configs/demo.yaml` and
 * `evalrig plan --dry-run configs/demo.yaml`, median wall time of the whole process (bench/_startup.ts).
 */
import { reportFigures } from './_figures.js';
import { startupFigures } from './_startup.js';

const { nodeMs, figures } = await startupFigures();
console.log(`node -e 0: ${nodeMs} ms (for scale)`);
reportFigures(figures);
