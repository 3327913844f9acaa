import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The layout's rules, checked on the real source tree (docs/architecture.md explains them):
// no import loops, and the engine imports nothing outside src/engine.

const src = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory()
      ? sourceFiles(join(dir, d.name))
      : /\.tsx?$/.test(d.name)
        ? [join(dir, d.name)]
        : [],
  );
}

/** Relative imports of a file (static, dynamic and type-only), resolved to source files. */
function importsOf(file: string, known: Set<string>): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) {
    const base = resolve(dirname(file), m[1]!).replace(/\.js$/, "");
    const hit = [`${base}.ts`, `${base}.tsx`].find((c) => known.has(c));
    if (hit) out.push(hit);
  }
  return out;
}

function graph(): Map<string, string[]> {
  const files = sourceFiles(src);
  const known = new Set(files);
  return new Map(files.map((f) => [f, importsOf(f, known)]));
}

/** Strongly connected components with more than one file (or a self-import): the loops. */
function cycles(g: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of g.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(relative(src, w));
      } while (w !== v);
      if (comp.length > 1 || (g.get(v) ?? []).includes(v)) out.push(comp.sort());
    }
  };
  for (const v of g.keys()) if (!idx.has(v)) visit(v);
  return out;
}

describe("architecture", () => {
  it("has no import loops in src", () => {
    expect(cycles(graph())).toEqual([]);
  });

  it("keeps the engine generic: src/engine imports nothing outside itself", () => {
    const engine = join(src, "engine");
    const outside = [...graph()]
      .filter(([f]) => f.startsWith(engine))
      .flatMap(([f, deps]) =>
        deps
          .filter((d) => !d.startsWith(engine))
          .map((d) => `${relative(src, f)} → ${relative(src, d)}`),
      );
    expect(outside).toEqual([]);
  });
});
