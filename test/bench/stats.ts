// Medians with min and max, and the one-line form the bench table prints.
export type Spread = { median: number; min: number; max: number; n: number; values: number[] };

export function spread(xs: number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { median: round(mid), min: round(s[0]), max: round(s[s.length - 1]), n: s.length, values: xs.map(round) };
}

export const round = (x: number) => Math.round(x * 10) / 10;

/** "123 (110–140)". */
export const show = (s: Spread, unit = '') => `${s.median}${unit} (${s.min}–${s.max})`;

export const ratio = (a: Spread, b: Spread) => round(a.median / b.median);
