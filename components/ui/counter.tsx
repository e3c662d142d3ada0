/** How much of a long field's limit is used, announced politely only near the limit. */
export function Counter({ id, used, limit, unit }: { id?: string; used: number; limit: number; unit: 'characters' | 'bytes' }) {
  const near = used > limit * 0.9;
  return (
    <p id={id} className={`mt-1 text-right text-xs tabular-nums ${used > limit ? 'text-red-700' : near ? 'text-amber-800' : 'text-slate-500'}`} aria-live={near ? 'polite' : 'off'} data-testid="counter">
      {used.toLocaleString('en')} / {limit.toLocaleString('en')} {unit}
    </p>
  );
}
