import type { TrafficSample } from "../engine/ports.js";

// The traffic timeline as an SVG chart: success rate on top, requests per second below,
// a dashed line and label at every step boundary. Plain SVG (no browser, no chart engine)
// so it renders the same in a terminal-only CI and in resvg for the PNG.

export interface ChartInput {
  samples: TrafficSample[];
  marks: { label: string; at: number }[];
  title: string;
}

const W = 960;
const H = 460;
const PAD = { left: 64, right: 96, top: 76, bottom: 36 };
const GAP = 28;

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const fmt = (n: number) =>
  Math.abs(n) >= 1000 ? `${(n / 1000).toFixed(n >= 10000 ? 0 : 1)}k` : n.toFixed(0);

export function renderChartSvg({ samples, marks, title }: ChartInput): string {
  const t0 = samples[0]?.at ?? marks[0]?.at ?? 0;
  const t1 = Math.max((samples.at(-1)?.at ?? t0) + 1000, t0 + 1000);
  const plotW = W - PAD.left - PAD.right;
  const panelH = (H - PAD.top - PAD.bottom - GAP) / 2;
  const x = (t: number) => PAD.left + ((t - t0) / (t1 - t0)) * plotW;

  const rates = samples.map((s) => (s.requests ? (s.ok / s.requests) * 100 : 100));
  const minRate = Math.min(99, Math.floor(Math.min(100, ...rates)));
  const rateTop = PAD.top;
  const yRate = (r: number) => rateTop + (1 - (r - minRate) / (100 - minRate || 1)) * panelH;
  const rpsTop = PAD.top + panelH + GAP;
  const maxRps = Math.max(1, ...samples.map((s) => s.requests));
  const yRps = (v: number) => rpsTop + (1 - v / maxRps) * panelH;

  const ratePath = samples
    .map((s, i) => `${i ? "L" : "M"}${x(s.at + 500).toFixed(1)},${yRate(rates[i]!).toFixed(1)}`)
    .join("");
  const rpsArea = samples.length
    ? `M${x(samples[0]!.at + 500).toFixed(1)},${yRps(0)}` +
      samples.map((s) => `L${x(s.at + 500).toFixed(1)},${yRps(s.requests).toFixed(1)}`).join("") +
      `L${x(samples.at(-1)!.at + 500).toFixed(1)},${yRps(0)}Z`
    : "";
  const failures = samples
    .filter((s) => s.failed > 0)
    .map(
      (s) =>
        `<rect x="${x(s.at).toFixed(1)}" y="${rateTop}" width="${Math.max(2, x(s.at + 1000) - x(s.at)).toFixed(1)}" height="${panelH}" fill="#d62728" opacity="0.25"/>`,
    )
    .join("");

  const markLines = marks
    .filter((m) => m.at >= t0 && m.at <= t1)
    .map((m) => {
      const mx = x(m.at).toFixed(1);
      const ly = PAD.top - 4; // labels sit above the top panel, slanted so neighbours fit
      return (
        `<line x1="${mx}" x2="${mx}" y1="${PAD.top}" y2="${H - PAD.bottom}" stroke="#888" stroke-dasharray="4 3"/>` +
        `<text x="${mx}" y="${ly}" font-size="10" fill="#555" transform="rotate(-28 ${mx} ${ly})">${esc(m.label)}</text>`
      );
    })
    .join("");

  const seconds = (t1 - t0) / 1000;
  const tickEvery = seconds > 600 ? 120 : seconds > 240 ? 60 : seconds > 60 ? 30 : 10;
  const xTicks: string[] = [];
  for (let s = 0; s <= seconds; s += tickEvery) {
    const tx = x(t0 + s * 1000).toFixed(1);
    xTicks.push(
      `<text x="${tx}" y="${H - PAD.bottom + 16}" font-size="11" text-anchor="middle" fill="#333">${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}</text>`,
    );
  }
  const yTicks = [
    [100, yRate(100)],
    [minRate, yRate(minRate)],
  ]
    .map(
      ([v, y]) =>
        `<text x="${PAD.left - 6}" y="${(y as number) + 4}" font-size="11" text-anchor="end" fill="#333">${v}%</text>`,
    )
    .concat(
      [maxRps, 0].map(
        (v) =>
          `<text x="${PAD.left - 6}" y="${yRps(v) + 4}" font-size="11" text-anchor="end" fill="#333">${fmt(v)}</text>`,
      ),
    )
    .join("");

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${PAD.left}" y="18" font-size="14" font-weight="bold" fill="#111">${esc(title)}</text>`,
    `<rect x="${PAD.left}" y="${rateTop}" width="${plotW}" height="${panelH}" fill="#f7f9fb" stroke="#ccc"/>`,
    `<rect x="${PAD.left}" y="${rpsTop}" width="${plotW}" height="${panelH}" fill="#f7f9fb" stroke="#ccc"/>`,
    `<text x="${PAD.left + 6}" y="${rateTop + 14}" font-size="11" fill="#2ca02c">success rate</text>`,
    `<text x="${PAD.left + 6}" y="${rpsTop + 14}" font-size="11" fill="#1f77b4">requests/s</text>`,
    failures,
    `<path d="${rpsArea}" fill="#1f77b4" fill-opacity="0.35" stroke="#1f77b4" stroke-width="1"/>`,
    `<path d="${ratePath}" fill="none" stroke="#2ca02c" stroke-width="2"/>`,
    markLines,
    xTicks.join(""),
    yTicks,
    `</svg>`,
  ].join("\n");
}
