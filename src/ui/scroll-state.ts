// The detail pane's viewport as a pure reducer (like `less`: line, page, top, end, and a
// `/` filter typed on the status line). The view clamps with the current line count.

export interface ScrollState {
  /** First visible line. */
  offset: number;
  /** Stick to the end as lines arrive (the log view, or after `G`/End). */
  follow: boolean;
  /** Applied filter (lines containing it); empty shows everything. */
  filter: string;
  /** The filter being typed, when the `/` prompt is open. */
  draft?: string;
}

export type ScrollAction =
  | { type: "lines"; n: number }
  | { type: "pages"; n: number }
  | { type: "top" }
  | { type: "end" }
  | { type: "filter-open" }
  | { type: "filter-type"; text: string }
  | { type: "filter-erase" }
  | { type: "filter-apply" }
  | { type: "filter-cancel" }
  | { type: "reset"; follow: boolean };

export const initialScroll = (follow = false): ScrollState => ({ offset: 0, follow, filter: "" });

/** `total` lines in a viewport of `height` rows. */
export function reduceScroll(
  s: ScrollState,
  a: ScrollAction,
  view: { total: number; height: number },
): ScrollState {
  const max = Math.max(0, view.total - view.height);
  // Reaching the end while moving down sticks to it, like `less +F`.
  const at = (offset: number, down: boolean): ScrollState => {
    const o = Math.max(0, Math.min(max, offset));
    return { ...s, offset: o, follow: o >= max && (s.follow || down) };
  };
  const current = s.follow ? max : Math.min(s.offset, max);
  switch (a.type) {
    case "lines":
      return at(current + a.n, a.n > 0);
    case "pages":
      return at(current + a.n * Math.max(1, view.height - 1), a.n > 0);
    case "top":
      return { ...s, offset: 0, follow: false };
    case "end":
      return { ...s, offset: max, follow: true };
    case "filter-open":
      return { ...s, draft: s.filter };
    case "filter-type":
      return s.draft === undefined ? s : { ...s, draft: s.draft + a.text };
    case "filter-erase":
      return s.draft === undefined ? s : { ...s, draft: [...s.draft].slice(0, -1).join("") };
    case "filter-apply": {
      const { draft: _, ...rest } = s;
      return { ...rest, filter: s.draft ?? s.filter, offset: 0, follow: false };
    }
    case "filter-cancel": {
      const { draft: _, ...rest } = s;
      return { ...rest, filter: "", offset: 0 };
    }
    case "reset":
      return initialScroll(a.follow);
  }
}

/** The visible range for the current line count: [start, end). */
export function visibleRange(s: ScrollState, total: number, height: number) {
  const max = Math.max(0, total - height);
  const start = s.follow ? max : Math.min(s.offset, max);
  return {
    start,
    end: Math.min(total, start + height),
    above: start,
    below: total - start - height,
  };
}
