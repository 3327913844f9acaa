// Small pure helpers for the entry's argument handling (kept apart so tests can import
// them without running the CLI).

/** `--json` (or `-j`, alone or in a group like `-yj`) anywhere before `--`. */
export function wantsJson(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === "--") return false;
    if (a === "--json" || /^-[a-zA-Z]*j[a-zA-Z]*$/.test(a)) return true;
  }
  return false;
}

/** A known command name close to `typed` (edit distance), for "did you mean". */
export function suggestCommand(typed: string, names: readonly string[]): string | undefined {
  const dist = (a: string, b: string) => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0]![j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++)
        d[i]![j] = Math.min(
          d[i - 1]![j]! + 1,
          d[i]![j - 1]! + 1,
          d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
        );
    return d[a.length]![b.length]!;
  };
  let best: { name: string; d: number } | undefined;
  for (const name of names) {
    const d = dist(typed.toLowerCase(), name);
    if (d <= Math.max(2, Math.floor(name.length / 3)) && (!best || d < best.d)) best = { name, d };
  }
  return best?.name;
}
