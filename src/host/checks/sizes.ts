export const MIB = 1024 * 1024;
export const GIB = 1024 * MIB;

export function gib(bytes: number): string {
  return `${(bytes / GIB).toFixed(1)} GiB`;
}

/** nvidia-smi reports memory in MiB. */
export function gibFromMiB(mib: number): string {
  return gib(mib * MIB);
}
