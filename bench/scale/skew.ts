/** mulberry32 (as packages/demo-data): reproducible for one --seed, and fast enough for millions of draws. */
export function seeded(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Draws index i of n with probability ∝ 1/(i+1)^s (Zipf): a few heavy customers and best-selling
 * products, a long tail of rare ones. A 64K lookup table of the inverse CDF makes a draw one array read.
 */
export function zipf(n: number, s: number, random: () => number) {
  const weights = Array.from({ length: n }, (_, i) => 1 / Math.pow(i + 1, s));
  const total = weights.reduce((a, b) => a + b, 0);
  const size = 1 << 16;
  const table = new Uint32Array(size);
  let cumulative = 0;
  let i = 0;
  for (let k = 0; k < size; k++) {
    const target = ((k + 0.5) / size) * total;
    while (i < n - 1 && cumulative + weights[i]! < target) cumulative += weights[i++]!;
    table[k] = i;
  }
  return {
    draw: () => table[(random() * size) | 0]!,
    /** Expected share of all draws that index i gets. */
    share: (index: number) => weights[index]! / total,
  };
}

/** Picks from a small discrete distribution given as [value, weight] pairs. */
export function weighted<T>(pairs: readonly (readonly [T, number])[], random: () => number) {
  const total = pairs.reduce((a, [, w]) => a + w, 0);
  return () => {
    let x = random() * total;
    for (const [value, w] of pairs) if ((x -= w) < 0) return value;
    return pairs.at(-1)![0];
  };
}
