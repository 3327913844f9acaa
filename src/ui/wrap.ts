// Hard wrapping to a column width, done before Ink sees the text: the detail pane scrolls by
// line, so it must know exactly how many rows each piece of text takes. Values being
// confirmed are wrapped, never cut.

/** Terminal cells of a string: one per code point (the screen's text is ASCII and BMP symbols). */
export function cellWidth(s: string): number {
  return [...s].length;
}

/**
 * Lines of at most `width` cells; breaks at the last space when one lies in the second half
 * of the line, otherwise mid-word. Continuation lines start with `indent` spaces.
 */
export function wrapText(text: string, width: number, indent = 0): string[] {
  const w = Math.max(1, width);
  const out: string[] = [];
  for (const para of text.split("\n")) {
    let rest = [...para];
    let first = true;
    if (rest.length === 0) out.push("");
    while (rest.length > 0) {
      const pad = first ? 0 : Math.min(indent, w - 1);
      const room = w - pad;
      if (rest.length <= room) {
        out.push(" ".repeat(pad) + rest.join(""));
        break;
      }
      let cut = room;
      const space = rest.lastIndexOf(" ", room);
      if (space >= Math.floor(room / 2) && space > 0) cut = space;
      out.push(" ".repeat(pad) + rest.slice(0, cut).join("").trimEnd());
      rest = rest.slice(cut);
      while (rest[0] === " ") rest = rest.slice(1);
      first = false;
    }
  }
  return out;
}

/** One line cut to `width` cells with an ellipsis (for one-line summaries only). */
export function truncate(s: string, width: number): string {
  const cs = [...s];
  if (cs.length <= width) return s;
  return `${cs.slice(0, Math.max(0, width - 1)).join("")}…`;
}
