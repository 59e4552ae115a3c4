import { MemorySampler } from './process-memory.mjs';
import { medianByKey } from './stats.mjs';

/**
 * Runs a scenario's subjects (the app, its variants, its baselines)
 * alternately: round 1 runs each once in order, then round 2, and so on, so
 * a neighbour's burst of load on a shared machine hits every subject alike.
 * Each run gets a fresh server process, so its peak RSS (VmHWM) is its own.
 * A subject that crashes is not run again; the error is kept for the report.
 */
export async function runAlternating(ctx, scenario, subjects, rounds) {
  const state = subjects.map((subject) => ({ subject, rounds: [], error: null }));
  for (let round = 1; round <= rounds; round++) {
    for (const s of state) {
      if (s.error) continue;
      try {
        const metrics = await runOnce(ctx, scenario, s.subject);
        s.rounds.push(metrics);
        ctx.log(
          `  ${scenario.id} round ${round}/${rounds} ${s.subject.id}: ${ctx.describe(metrics)}`,
        );
      } catch (error) {
        s.error = error.message;
        ctx.log(
          `  ${scenario.id} round ${round}/${rounds} ${s.subject.id}: ERROR ${firstLines(error.message)}`,
        );
      }
    }
  }
  return state.map(({ subject, rounds: rs, error }) => ({
    id: subject.id,
    label: subject.label,
    status: error ? 'error' : 'ok',
    ...(error ? { reason: error } : {}),
    rounds: rs,
    median: medianByKey(rs),
  }));
}

async function runOnce(ctx, scenario, subject) {
  const server = await subject.start(ctx);
  let memory;
  let metrics;
  try {
    const sampler = new MemorySampler(server.pid);
    try {
      metrics = await scenario.measure(ctx, server, subject);
    } catch (error) {
      // A client error is usually the server dying under it: say so.
      if (!server.running) {
        const { code, signal } = await server.exited;
        error.message += `\n${server.name} exited (code ${code}, signal ${signal})\n${server.stderrTail()}`;
      }
      throw error;
    } finally {
      memory = sampler.stop();
    }
    if (!server.running) {
      const { code, signal } = await server.exited;
      throw new Error(
        `${server.name} died during the run (code ${code}, signal ${signal})\n${server.stderrTail()}`,
      );
    }
  } finally {
    await server.stop();
  }
  return { ...metrics, peakRssMB: memory.peakRssMB, rssGrowthMB: memory.rssGrowthMB };
}

const firstLines = (text, n = 4) => text.split('\n').slice(0, n).join('\n    ');
