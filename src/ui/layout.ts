// Where each pane goes, computed from the terminal's size alone (pure: unit-tested at every
// size without a terminal). The frame is exactly `rows` tall — never more, or the terminal
// scrolls and Ink's redraw leaves copies of it behind — and one column narrower than the
// terminal, so a glyph drawn wider than Ink measures cannot wrap a line.

/** Below this the screen cannot show a confirmation legibly; the CLI uses plain output. */
export const MIN_COLUMNS = 80;
export const MIN_ROWS = 24;
/** From this width the three panes sit side by side; below it they stack. */
export const WIDE_COLUMNS = 120;

export const STEPS_WIDTH = 30;
export const TRAFFIC_WIDTH = 24;

/** Rows every layout spends outside the body: header, status line, key hints. */
const CHROME_ROWS = 3;

export type ScreenLayout =
  | { kind: "too-small"; width: number; height: number; columns: number; rows: number }
  | {
      kind: "wide";
      width: number;
      height: number;
      bodyRows: number;
      stepsWidth: number;
      trafficWidth: number;
      detailWidth: number;
      /** Rows for step entries under the "Steps" title. */
      stepRows: number;
      /** Rows of the detail pane's scrollable viewport (under its title line). */
      viewportRows: number;
    }
  | {
      kind: "stacked";
      width: number;
      height: number;
      bodyRows: number;
      /** The traffic pane as a strip of this many rows above the steps. */
      trafficRows: number;
      stepRows: number;
      detailWidth: number;
      viewportRows: number;
    };

export function computeLayout(columns: number, rows: number, stepCount = 9): ScreenLayout {
  const width = Math.max(1, columns - 1);
  if (columns < MIN_COLUMNS || rows < MIN_ROWS)
    return { kind: "too-small", width, height: rows, columns, rows };
  const bodyRows = rows - CHROME_ROWS;
  if (columns >= WIDE_COLUMNS) {
    // Detail pane: a border column on each side and one column of padding each side.
    const detailWidth = width - STEPS_WIDTH - TRAFFIC_WIDTH - 4;
    return {
      kind: "wide",
      width,
      height: rows,
      bodyRows,
      stepsWidth: STEPS_WIDTH,
      trafficWidth: TRAFFIC_WIDTH,
      detailWidth,
      stepRows: Math.min(stepCount, bodyRows - 1),
      viewportRows: bodyRows - 1,
    };
  }
  // Stacked: traffic strip, steps (collapsed around the current one), then the detail,
  // which gets everything else: it holds what is being confirmed.
  const trafficRows = 2;
  const stepRows = Math.min(stepCount, Math.max(5, Math.floor((bodyRows - trafficRows) / 4)));
  return {
    kind: "stacked",
    width,
    height: rows,
    bodyRows,
    trafficRows,
    stepRows,
    detailWidth: width,
    viewportRows: bodyRows - trafficRows - stepRows - 1,
  };
}

export interface StepLike {
  index: number;
  status: string;
}

export type StepEntry<S> = { kind: "step"; step: S } | { kind: "more"; text: string };

/**
 * The step list in `rows` rows: every step when they fit, otherwise the current step and its
 * neighbours, with one summary line for the steps above and one for those below.
 */
export function collapseSteps<S extends StepLike>(
  steps: S[],
  currentIndex: number,
  rows: number,
): StepEntry<S>[] {
  const n = steps.length;
  if (n <= rows) return steps.map((step) => ({ kind: "step", step }));
  if (rows <= 0) return [];
  const ci = Math.max(0, Math.min(n - 1, currentIndex));
  if (rows <= 2) {
    const start = Math.min(ci, n - rows);
    return steps.slice(start, start + rows).map((step) => ({ kind: "step", step }));
  }
  let w = Math.max(1, rows - 2);
  let start = Math.max(0, Math.min(ci - Math.floor((w - 1) / 2), n - w));
  if (start === 0) w = Math.max(1, rows - 1);
  else if (start + w >= n) {
    w = Math.max(1, rows - 1);
    start = n - w;
  }
  const end = Math.min(n, start + w);
  const out: StepEntry<S>[] = [];
  if (start > 0) out.push({ kind: "more", text: rangeText(steps.slice(0, start)) });
  for (const step of steps.slice(start, end)) out.push({ kind: "step", step });
  if (end < n) out.push({ kind: "more", text: rangeText(steps.slice(end)) });
  return out.slice(0, rows);
}

function rangeText(xs: StepLike[]): string {
  const first = xs[0]?.index ?? 0;
  const last = xs.at(-1)?.index ?? first;
  const span = first === last ? `step ${first}` : `steps ${first}–${last}`;
  if (xs.every((s) => s.status === "done")) return `✔ ${span} done`;
  if (xs.every((s) => s.status === "pending")) return `○ ${span} to do`;
  return `· ${span}`;
}
