import { describe, expect, it } from "vitest";
import { initialScroll, reduceScroll, visibleRange } from "../../src/ui/scroll-state.js";

const view = { total: 100, height: 10 };

describe("detail viewport (scroll reducer)", () => {
  it("scrolls by line and page, clamps at both ends, and jumps to top and end", () => {
    let s = initialScroll();
    s = reduceScroll(s, { type: "lines", n: -1 }, view);
    expect(s.offset).toBe(0);
    s = reduceScroll(s, { type: "lines", n: 3 }, view);
    expect(visibleRange(s, 100, 10)).toMatchObject({ start: 3, end: 13 });
    s = reduceScroll(s, { type: "pages", n: 1 }, view);
    expect(s.offset).toBe(12); // a page keeps one line of context
    s = reduceScroll(s, { type: "pages", n: 50 }, view);
    expect(s.offset).toBe(90);
    expect(visibleRange(s, 100, 10)).toMatchObject({ start: 90, end: 100, below: 0 });
    s = reduceScroll(s, { type: "top" }, view);
    expect(s.offset).toBe(0);
    s = reduceScroll(s, { type: "end" }, view);
    expect(s.follow).toBe(true);
    // Following: new lines keep the end in view.
    expect(visibleRange(s, 120, 10)).toMatchObject({ start: 110, end: 120 });
    s = reduceScroll(s, { type: "lines", n: -1 }, { total: 120, height: 10 });
    expect(s).toMatchObject({ offset: 109, follow: false });
  });

  it("types, applies, and clears a `/` filter", () => {
    let s = reduceScroll(initialScroll(), { type: "lines", n: 5 }, view);
    s = reduceScroll(s, { type: "filter-open" }, view);
    expect(s.draft).toBe("");
    for (const c of "evicx") s = reduceScroll(s, { type: "filter-type", text: c }, view);
    s = reduceScroll(s, { type: "filter-erase" }, view);
    s = reduceScroll(s, { type: "filter-apply" }, view);
    expect(s).toMatchObject({ filter: "evic", offset: 0 });
    expect(s.draft).toBeUndefined();
    s = reduceScroll(s, { type: "filter-cancel" }, view);
    expect(s.filter).toBe("");
    // Typing without an open prompt does nothing.
    expect(reduceScroll(s, { type: "filter-type", text: "x" }, view)).toBe(s);
  });

  it("shows everything when it fits", () => {
    const s = reduceScroll(initialScroll(), { type: "pages", n: 3 }, { total: 5, height: 10 });
    expect(visibleRange(s, 5, 10)).toMatchObject({ start: 0, end: 5 });
  });
});
