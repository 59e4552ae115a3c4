import { formatRatio, formatValue, metricInfo } from '../report/format.mjs';

const ops = {
  '>=': (a, b) => a >= b,
  '>': (a, b) => a > b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
};

/**
 * Evaluates a scenario's checks on the subjects' medians. Kinds:
 * - ratio: median(app) / median(baseline) of `metric`, compared with `target`
 *   (op '>=' by default); with no target it is reported for information.
 * - limit: an absolute figure of one subject, e.g. peak RSS < 100 MB.
 * - info: one subject's figure, reported without a target.
 * A check whose subject was skipped or crashed is 'skipped' or 'error', never a pass.
 */
export function evaluateChecks(scenario, subjects) {
  const byId = new Map(subjects.map((s) => [s.id, s]));
  return scenario.checks.map((check) => {
    const app = byId.get(check.app);
    const base = check.baseline ? byId.get(check.baseline) : null;
    const row = {
      scenario: scenario.id,
      label: check.label,
      metric: check.metric,
      kind: check.kind,
      app: check.app,
      baseline: check.baseline ?? null,
      appValue: null,
      baselineValue: null,
      appFigure: '–',
      baselineFigure: '–',
      ratio: null,
      ratioFigure: '–',
      target: targetText(check),
      op: check.op ?? (check.kind === 'limit' ? '<' : '>='),
      targetValue: check.target ?? null,
      note: check.note ?? null,
      status: 'info',
      reason: null,
    };
    if (!app || (check.baseline && !base)) throw new Error(`check ${check.label}: unknown subject`);
    const missing = [app, base].find((s) => s && s.status !== 'ok');
    if (missing) {
      row.status = missing.status === 'error' ? 'error' : 'skipped';
      row.reason = `${missing.label}: ${missing.status === 'error' ? 'crashed' : missing.reason}`;
      return row;
    }
    row.appValue = app.median[check.metric] ?? null;
    row.appFigure = formatValue(check.metric, row.appValue);
    if (base) {
      row.baselineValue = base.median[check.metric] ?? null;
      row.baselineFigure = formatValue(check.metric, row.baselineValue);
      if (row.appValue !== null && row.baselineValue) {
        row.ratio = row.appValue / row.baselineValue;
        row.ratioFigure = formatRatio(row.ratio);
      }
    }
    if (check.target === undefined) return row;
    const value = check.kind === 'limit' ? row.appValue : row.ratio;
    if (value === null) {
      row.status = 'error';
      row.reason = 'no measurement';
    } else {
      row.status = ops[row.op](value, check.target) ? 'pass' : 'falls short';
    }
    return row;
  });
}

function targetText(check) {
  if (check.target === undefined) return '(info)';
  const op = { '>=': '≥', '>': '>', '<': '<', '<=': '≤' }[
    check.op ?? (check.kind === 'limit' ? '<' : '>=')
  ];
  return check.kind === 'limit'
    ? `${op} ${check.target} ${metricInfo[check.metric]?.unit ?? ''}`.trimEnd()
    : `${op} ${check.target.toFixed(2)}x`;
}
