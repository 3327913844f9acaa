import type { TopLevelSpec } from "vega-lite";

// Vega-Lite spec → Vega → SVG with Vega's headless view (no browser, no canvas), then PNG
// through resvg. Fonts: the spec names DejaVu Sans (installed by setup, fonts-dejavu-core)
// and resvg is pointed at the system font folders, so the PNG renders the same offline.

export interface RenderedChart {
  svg: string;
  png: Buffer;
}

/** The Vega spec compiled from the Vega-Lite one (kept for the HTML report and tests). */
export async function compileToVega(spec: TopLevelSpec): Promise<object> {
  const { compile } = await import("vega-lite");
  return compile(spec).spec;
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vega = await import("vega");
  const compiled = await compileToVega(spec);
  const view = new vega.View(vega.parse(compiled as Parameters<typeof vega.parse>[0]), {
    renderer: "none",
    // Vega logs through console by default; the report step runs behind the screen.
    logLevel: vega.None,
  });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export async function renderPng(svg: string, width = 1440): Promise<Buffer> {
  const { Resvg } = await import("@resvg/resvg-js");
  return new Resvg(svg, {
    background: "white",
    font: {
      loadSystemFonts: true,
      fontDirs: ["/usr/share/fonts/truetype/dejavu"],
      defaultFontFamily: "DejaVu Sans",
      sansSerifFamily: "DejaVu Sans",
    },
    fitTo: { mode: "width", value: width },
  })
    .render()
    .asPng();
}

export async function renderChart(spec: TopLevelSpec): Promise<RenderedChart> {
  const svg = await renderSvg(spec);
  return { svg, png: await renderPng(svg) };
}
