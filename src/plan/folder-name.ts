import { z } from 'zod';

/** A name that becomes a folder of the run directory: no path separators, nothing that starts with a dot. */
export const folderName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, dot, dash or underscore (it names a folder)');
