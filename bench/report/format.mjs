/** How each metric a scenario may report is named and printed. */
export const metricInfo = {
  mbps: { label: 'throughput', unit: 'MB/s', digits: 0 },
  reqPerSec: { label: 'throughput', unit: 'req/s', digits: 0 },
  latencyP50Ms: { label: 'p50', unit: 'ms', digits: 2 },
  latencyP99Ms: { label: 'p99', unit: 'ms', digits: 2 },
  peakRssMB: { label: 'peak RSS', unit: 'MB', digits: 1 },
  rssGrowthMB: { label: 'RSS growth', unit: 'MB', digits: 1 },
  writtenMB: { label: 'written', unit: 'MB', digits: 1 },
  seconds: { label: 'time', unit: 's', digits: 2 },
  errors: { label: 'errors', unit: '', digits: 0 },
  sharePct: { label: 'counted', unit: '%', digits: 1 },
  sentPerSec: { label: 'sent', unit: 'datagrams/s', digits: 0 },
  recvBufferKiB: { label: 'receive buffer', unit: 'KiB', digits: 0 },
  cpuUsPerDatagram: { label: 'CPU per datagram', unit: 'µs', digits: 2 },
  probeP50Ms: { label: 'probe p50', unit: 'ms', digits: 2 },
  probeP99Ms: { label: 'probe p99', unit: 'ms', digits: 2 },
  probeFailures: { label: 'probes failed', unit: '', digits: 0 },
};

export function formatValue(metric, value) {
  if (value === null || value === undefined) return '–';
  const info = metricInfo[metric] ?? { unit: '', digits: 2 };
  const digits = Math.abs(value) >= 1000 ? 0 : info.digits;
  const text = value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  return info.unit ? `${text} ${info.unit}` : text;
}

/** One line for progress output: every known metric of one run. */
export function describeMetrics(metrics) {
  return Object.keys(metricInfo)
    .filter((key) => typeof metrics[key] === 'number')
    .map((key) => `${metricInfo[key].label} ${formatValue(key, metrics[key])}`)
    .join(', ');
}

export function formatRatio(ratio) {
  return ratio === null || ratio === undefined ? '–' : `${ratio.toFixed(2)}x`;
}
