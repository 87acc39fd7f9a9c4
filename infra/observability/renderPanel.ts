/**
 * Draws one time-series panel from Prometheus data as Grafana's dark theme would show it, and
 * rasterizes it with headless Chromium (playwright-core, the Debian chromium package) into a PNG.
 * Hand-written SVG rather than Grafana itself: no Grafana package can be installed from the
 * registries these machines reach, and a few dozen lines of SVG draw a stacked time series
 * faithfully enough for the README. The numbers are the real ones Prometheus returned.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

export interface PanelSeries {
  name: string;
  /** [unix seconds, value], ascending. */
  points: Array<[number, number]>;
  color?: string;
}

export interface PanelImage {
  title: string;
  subtitle?: string;
  series: PanelSeries[];
  stacked?: boolean;
  unit?: string;
}

const PALETTE = [
  '#73BF69',
  '#F2CC0C',
  '#8AB8FF',
  '#FF780A',
  '#F2495C',
  '#5794F2',
  '#B877D9',
  '#FADE2A',
];
const WIDTH = 960;
const HEIGHT = 420;
const PLOT = { left: 56, right: 20, top: 56, bottom: 78 };

function escapeXml(text: string): string {
  return text.replace(
    /[<>&"]/g,
    c => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' }[c]!),
  );
}

/** A "nice" upper bound and tick step for the y axis (1, 2, 5 × 10^n). */
function yTicks(max: number): { top: number; step: number } {
  if (max <= 0) return { top: 1, step: 1 };
  const raw = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map(m => m * magnitude).find(s => s >= raw)!;
  return { top: Math.ceil(max / step) * step, step };
}

function clock(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(11, 19);
}

/** The panel as a standalone HTML page with one inline SVG; pure, so it can be checked alone. */
export function panelHtml(panel: PanelImage): { html: string; drawn: number } {
  const series = panel.series.map((s, i) => ({
    ...s,
    color: s.color ?? PALETTE[i % PALETTE.length],
  }));
  const times = [
    ...new Set(series.flatMap(s => s.points.map(([t]) => t))),
  ].sort((a, b) => a - b);
  if (times.length < 2)
    throw new Error(`panel ${panel.title}: fewer than two timestamps to draw`);
  // Stacking as Grafana does: each series on top of the ones before it, at every timestamp.
  const valueAt = (s: PanelSeries, t: number): number =>
    s.points.find(([pt]) => pt === t)?.[1] ?? 0;
  const base = new Map(times.map(t => [t, 0]));
  const lines = series.map(s => {
    const ys = times.map(t => {
      const y = (panel.stacked ? base.get(t)! : 0) + valueAt(s, t);
      if (panel.stacked) base.set(t, y);
      return y;
    });
    return { ...s, ys };
  });
  const { top, step } = yTicks(Math.max(...lines.flatMap(l => l.ys)));
  const w = WIDTH - PLOT.left - PLOT.right;
  const h = HEIGHT - PLOT.top - PLOT.bottom;
  const x = (t: number): number =>
    PLOT.left + ((t - times[0]) / (times[times.length - 1] - times[0])) * w;
  const y = (v: number): number => PLOT.top + h - (v / top) * h;

  const parts: string[] = [];
  for (let v = 0; v <= top + 1e-9; v += step) {
    parts.push(
      `<line x1="${PLOT.left}" x2="${PLOT.left + w}" y1="${y(v)}" y2="${y(
        v,
      )}" stroke="#2c3235"/>`,
    );
    parts.push(
      `<text x="${PLOT.left - 8}" y="${y(v) + 4}" text-anchor="end">${Number(
        v.toFixed(6),
      )}${panel.unit ?? ''}</text>`,
    );
  }
  for (let i = 0; i <= 5; i++) {
    const t = times[0] + ((times[times.length - 1] - times[0]) * i) / 5;
    parts.push(
      `<line x1="${x(t)}" x2="${x(t)}" y1="${PLOT.top}" y2="${
        PLOT.top + h
      }" stroke="#22252b"/>`,
    );
    // The outer labels stay inside the panel; the last one names the time zone.
    const anchors = ['start', 'middle', 'middle', 'middle', 'middle', 'end'];
    const label = i === 5 ? `${clock(t)} UTC` : clock(t);
    parts.push(
      `<text x="${x(t)}" y="${PLOT.top + h + 18}" text-anchor="${
        anchors[i]
      }">${label}</text>`,
    );
  }
  // Areas bottom-up, so that each band is filled between its line and the one below.
  lines.forEach((line, i) => {
    const below = panel.stacked && i > 0 ? lines[i - 1].ys : times.map(() => 0);
    const upper = times.map(
      (t, k) => `${x(t).toFixed(1)},${y(line.ys[k]).toFixed(1)}`,
    );
    const lower = times
      .map((t, k) => `${x(t).toFixed(1)},${y(below[k]).toFixed(1)}`)
      .reverse();
    parts.push(
      `<polygon class="area" points="${[...upper, ...lower].join(' ')}" fill="${
        line.color
      }" fill-opacity="${panel.stacked ? 0.55 : 0.18}"/>`,
    );
    parts.push(
      `<polyline class="series" points="${upper.join(
        ' ',
      )}" fill="none" stroke="${line.color}" stroke-width="${
        panel.stacked ? 1 : 2
      }"/>`,
    );
  });
  let legendX = PLOT.left;
  for (const line of lines) {
    parts.push(
      `<rect x="${legendX}" y="${
        HEIGHT - 34
      }" width="14" height="4" rx="1" fill="${line.color}"/>`,
    );
    parts.push(
      `<text x="${legendX + 20}" y="${HEIGHT - 28}" class="legend">${escapeXml(
        line.name,
      )}</text>`,
    );
    legendX += 30 + line.name.length * 7.5;
  }
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" rx="4" fill="#181b1f" stroke="#2c3235"/>`,
    `<text x="16" y="26" class="title">${escapeXml(panel.title)}</text>`,
    panel.subtitle
      ? `<text x="16" y="44" class="subtitle">${escapeXml(
          panel.subtitle,
        )}</text>`
      : '',
    ...parts,
    '</svg>',
  ].join('\n');
  const html = `<!doctype html><html><head><meta charset="utf-8"><style>
    body { margin: 0; background: #111217; }
    svg { display: block; font-family: Inter, "Helvetica Neue", Arial, sans-serif; font-size: 12px; fill: #ccccdc; }
    .title { font-size: 15px; font-weight: 500; fill: #ccccdc; }
    .subtitle { font-size: 12px; fill: #8e8e9e; }
    .legend { font-size: 12.5px; fill: #ccccdc; }
  </style></head><body>${svg}</body></html>`;
  return { html, drawn: lines.length };
}

/** Renders the panel to `file` (PNG) in headless Chromium; returns how many series it drew. */
export async function renderPanelPng(
  panel: PanelImage,
  file: string,
  executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
): Promise<number> {
  const { html, drawn } = panelHtml(panel);
  mkdirSync(path.dirname(file), { recursive: true });
  const browser = await chromium.launch({
    executablePath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const page = await browser.newPage({
      viewport: { width: WIDTH, height: HEIGHT },
      deviceScaleFactor: 2,
    });
    await page.setContent(html);
    const count = await page.locator('polyline.series').count();
    await page.locator('svg').screenshot({ path: file });
    return count === drawn ? drawn : count;
  } finally {
    await browser.close();
  }
}
