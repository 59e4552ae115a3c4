/**
 * A hand-written SVG bar chart: one bar per check that has a target, its
 * ratio against a dashed line at the target. Limits (peak RSS < 100 MB) are
 * drawn as value / limit with the line at 1.0, where shorter is better.
 */
const colours = { pass: '#2e7d32', 'falls short': '#e65100', other: '#9e9e9e' };

const esc = (s) =>
  String(s)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');

export function ratiosSvg(results) {
  const bars = results.scenarios.flatMap((s) =>
    (s.checks ?? [])
      .filter((c) => c.targetValue !== null)
      .map((c) => {
        const limit = c.kind === 'limit';
        return {
          label: `${s.id}: ${c.label}`,
          value: limit ? (c.appValue === null ? null : c.appValue / c.targetValue) : c.ratio,
          target: limit ? 1 : c.targetValue,
          caption: limit ? `${c.appFigure} (${c.target})` : `${c.ratioFigure} (${c.target})`,
          status: c.status,
        };
      }),
  );
  const labelW = 380;
  const barW = 330;
  const rowH = 30;
  const top = 46;
  const width = labelW + barW + 200;
  const height = top + Math.max(1, bars.length) * rowH + 30;
  const max = Math.max(
    1.5,
    ...bars.map((b) => (b.value ?? 0) * 1.1),
    ...bars.map((b) => b.target * 1.2),
  );
  const x = (v) => labelW + (Math.min(v, max) / max) * barW;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">netlab bench: ratios against targets (${esc(results.mode)}, ${esc(results.environment.date)})</text>`,
    `<text x="10" y="36" fill="#555">bar = app / baseline (limits: value / limit, lower is better); dashed line = target</text>`,
  ];
  // Grid at each 0.5x.
  for (let g = 0; g <= max; g += 0.5) {
    out.push(`<line x1="${x(g)}" y1="${top - 4}" x2="${x(g)}" y2="${height - 26}" stroke="#eee"/>`);
    out.push(
      `<text x="${x(g)}" y="${height - 12}" text-anchor="middle" fill="#777">${g.toFixed(1)}x</text>`,
    );
  }
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    const colour = colours[b.status] ?? colours.other;
    out.push(`<text x="${labelW - 8}" y="${y + 18}" text-anchor="end">${esc(b.label)}</text>`);
    if (b.value !== null) {
      out.push(
        `<rect x="${labelW}" y="${y + 6}" width="${(x(b.value) - labelW).toFixed(1)}" height="${rowH - 12}" fill="${colour}"/>`,
      );
    }
    out.push(
      `<line x1="${x(b.target)}" y1="${y + 2}" x2="${x(b.target)}" y2="${y + rowH - 2}" stroke="#c62828" stroke-width="2" stroke-dasharray="4 3"/>`,
    );
    const status = b.value === null ? b.status : `${b.caption} ${b.status}`;
    out.push(
      `<text x="${labelW + barW + 10}" y="${y + 18}" fill="${colour}">${esc(status)}</text>`,
    );
  });
  if (bars.length === 0)
    out.push(`<text x="10" y="${top + 18}">no check with a target was measured</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
