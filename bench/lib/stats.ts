/** Latency summaries: nearest-rank percentiles over every kept sample, in milliseconds. */
export interface Summary {
  p50: number;
  p95: number;
  mean: number;
  min: number;
  max: number;
  n: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** The middle value (the mean of the two middle ones for an even count): the benches' median of a few runs. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const round = (x: number) => Math.round(x * 100) / 100;

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    mean: round(sum / sorted.length),
    min: round(sorted[0]),
    max: round(sorted[sorted.length - 1]),
    n: sorted.length,
  };
}

/** A small seeded PRNG (mulberry32) so every run seeds the same dataset shape. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `one(i)` makes one call and returns its own duration in ms (so that checks on the
 * response are not counted). Runs `total` calls of `one(i)` from `concurrency` workers sharing one counter (a closed
 * loop: each worker starts its next call when the previous one ends). The first `warmup`
 * calls are made the same way and discarded. Bounded: exactly warmup + total calls.
 */
export async function closedLoop(
  opts: { concurrency: number; warmup: number; total: number },
  one: (i: number) => Promise<number>,
): Promise<{ samples: number[]; wallMs: number }> {
  const run = async (count: number, keep: number[] | null) => {
    let next = 0;
    const worker = async () => {
      for (;;) {
        const i = next++;
        if (i >= count) return;
        const ms = await one(i);
        keep?.push(ms);
      }
    };
    await Promise.all(Array.from({ length: Math.min(opts.concurrency, count) }, worker));
  };
  await run(opts.warmup, null);
  const samples: number[] = [];
  const t0 = performance.now();
  await run(opts.total, samples);
  return { samples, wallMs: performance.now() - t0 };
}
