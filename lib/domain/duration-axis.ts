/**
 * The y axis of a chart of durations held in hours (the board's "Time per step"): round ticks in
 * the unit that suits the longest value (seconds, minutes or hours), from 0 to a tick at or above
 * it, so the tallest bar stays inside the axis and no two ticks read the same ("0, 0m, 0m, 1m").
 */
export interface DurationAxis {
  /** Tick values in hours, from 0 to `top`. */
  ticks: number[];
  top: number;
  format: (hours: number) => string;
}

const UNITS = [
  { suffix: 'h', perHour: 1 },
  { suffix: 'm', perHour: 60 },
  { suffix: 's', perHour: 3600 },
] as const;

/** A round step giving about `intervals` steps up to `max`: 1, 2, 5 or 10 times a power of ten, at least `min`. */
function niceStep(max: number, intervals: number, min: number): number {
  const raw = max / intervals;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  return Math.max(step, min);
}

/** Seconds and minutes step as a clock does (under 120 of them: beyond, the next unit is used). */
const CLOCK_STEPS = [1, 2, 5, 10, 15, 20, 30, 60];
const clockStep = (max: number, intervals: number) => CLOCK_STEPS.find((s) => s >= max / intervals) ?? 60;

export function durationAxis(maxHours: number, intervals = 4): DurationAxis {
  const max = Number.isFinite(maxHours) && maxHours > 0 ? maxHours : 0;
  // The largest unit in which the longest value is at least 2: enough room for round steps.
  const unit = UNITS.find((u) => max * u.perHour >= 2) ?? UNITS[UNITS.length - 1];
  const inUnit = max * unit.perHour;
  // Hours may step by halves; seconds and minutes by whole ones.
  const step = inUnit === 0 ? 1 : unit.suffix === 'h' ? niceStep(inUnit, intervals, 0.5) : clockStep(inUnit, intervals);
  const count = Math.max(1, Math.ceil(inUnit / step - 1e-9));
  const decimals = step < 1 ? 1 : 0;
  const ticks = Array.from({ length: count + 1 }, (_, i) => Number((i * step).toFixed(decimals)) / unit.perHour);
  const format = (hours: number) => (hours === 0 ? '0' : `${Number((hours * unit.perHour).toFixed(decimals))}${unit.suffix}`);
  return { ticks, top: ticks[ticks.length - 1]!, format };
}
