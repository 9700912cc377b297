// Byte counts as flags take them. No imports: launch.ts reads --memory-limit with it before
// anything else is loaded.

/** `384Mi`, `1Gi`, `512Ki`, `262144`: bytes, or NaN. */
export function parseBytes(text: string): number {
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(text.trim());
  if (!m) return Number.NaN;
  return Number(m[1]) * (m[2] === 'Ki' ? 1024 : m[2] === 'Mi' ? 1024 ** 2 : m[2] === 'Gi' ? 1024 ** 3 : 1);
}

/** The other way: `262144` is `256Ki`, in the largest unit that divides it. */
export function formatBytes(value: number): string {
  for (const [unit, size] of [
    ['Gi', 1024 ** 3],
    ['Mi', 1024 ** 2],
    ['Ki', 1024],
  ] as const) {
    if (value > 0 && value % size === 0) return `${value / size}${unit}`;
  }
  return String(value);
}
