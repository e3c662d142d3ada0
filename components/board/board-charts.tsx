'use client';

import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { BoardCharts as ChartData } from '@/lib/data/board';
import { durationAxis } from '@/lib/domain/duration-axis';

const COLORS = { median: '#4f46e5', mean: '#a5b4fc', succeeded: '#10b981', failed: '#dc2626', rolledBack: '#f59e0b', open: '#2563eb', blocked: '#dc2626' };

/**
 * A chart with its figures as a table for screen readers (and for anyone who wants the numbers):
 * the drawing is aria-hidden, the table says the same.
 */
function ChartFigure({ id, title, columns, rows, children }: {
  id: string; title: string; columns: string[]; rows: (string | number)[][]; children: React.ReactElement;
}) {
  return (
    <figure className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm" data-testid={`chart-${id}`} aria-labelledby={`chart-${id}-title`}>
      <figcaption id={`chart-${id}-title`} className="mb-2 text-sm font-semibold text-slate-800">{title}</figcaption>
      <div className="h-56" aria-hidden>
        <ResponsiveContainer width="100%" height="100%">{children}</ResponsiveContainer>
      </div>
      <table className="sr-only">
        <caption>{title}</caption>
        <thead><tr>{columns.map((c) => <th key={c} scope="col">{c}</th>)}</tr></thead>
        <tbody>{rows.map((r, i) => <tr key={i}>{r.map((v, j) => <td key={j}>{v}</td>)}</tr>)}</tbody>
      </table>
    </figure>
  );
}

export function BoardCharts({ data }: { data: ChartData }) {
  const steps = data.timePerStep.map((s) => ({ ...s, label: `${s.position}. ${s.subject}` }));
  // Round ticks in seconds, minutes or hours, the top one above the tallest bar.
  const hours = durationAxis(Math.max(0, ...steps.flatMap((s) => [s.medianHours, s.meanHours])));
  return (
    <div className="grid gap-4 lg:grid-cols-3">
      <ChartFigure id="time-per-step" title="Time per step (hours, last 90 days)" columns={['Step', 'Median hours', 'Mean hours', 'Completed']}
        rows={steps.map((s) => [s.label, s.medianHours, s.meanHours, s.n])}>
        <BarChart data={steps} margin={{ left: -20, right: 8 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="position" tick={{ fontSize: 11 }} />
          <YAxis tick={{ fontSize: 11 }} domain={[0, hours.top]} ticks={hours.ticks} interval={0} tickFormatter={hours.format} width={44} />
          <Tooltip labelFormatter={(_, p) => (p?.[0]?.payload as { label?: string } | undefined)?.label ?? ''} />
          <Legend wrapperStyle={{ fontSize: 11 }} />
          <Bar dataKey="medianHours" name="median" fill={COLORS.median} isAnimationActive={false} />
          <Bar dataKey="meanHours" name="mean" fill={COLORS.mean} isAnimationActive={false} />
        </BarChart>
      </ChartFigure>
      <ChartFigure id="deploys" title="Deploys, failures and rollbacks (last 30 days)" columns={['Day', 'Succeeded', 'Failed', 'Rolled back']}
        rows={data.deploysOverTime.filter((d) => d.succeeded + d.failed + d.rolledBack > 0).map((d) => [d.day, d.succeeded, d.failed, d.rolledBack])}>
        <LineChart data={data.deploysOverTime} margin={{ left: -20, right: 8 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="day" tick={{ fontSize: 11 }} tickFormatter={(d: string) => d.slice(5)} minTickGap={16} />
          <YAxis allowDecimals={false} tick={{ fontSize: 11 }} />
          <Tooltip />
          <Legend wrapperStyle={{ fontSize: 11 }} />
          {/* Straight segments: counts per day, not a smooth curve (one day with deploys drew as a rising curve). */}
          <Line type="linear" dataKey="succeeded" stroke={COLORS.succeeded} dot={false} isAnimationActive={false} />
          <Line type="linear" dataKey="failed" stroke={COLORS.failed} dot={false} isAnimationActive={false} />
          <Line type="linear" dataKey="rolledBack" name="rolled back" stroke={COLORS.rolledBack} dot={false} isAnimationActive={false} />
        </LineChart>
      </ChartFigure>
      <ChartFigure id="age" title="Age of open requests" columns={['Age', 'Open or in progress', 'Blocked']}
        rows={data.ageOfOpen.map((a) => [a.bucket, a.open, a.blocked])}>
        <BarChart data={data.ageOfOpen} margin={{ left: -20, right: 8 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          {/* Every bucket labelled, slanted: "< 1 day" and "1-3 days" overlapped side by side. */}
          <XAxis dataKey="bucket" tick={{ fontSize: 10 }} interval={0} angle={-25} textAnchor="end" height={40} />
          <YAxis allowDecimals={false} tick={{ fontSize: 11 }} />
          <Tooltip />
          <Legend wrapperStyle={{ fontSize: 11 }} />
          <Bar dataKey="open" name="open or in progress" stackId="a" fill={COLORS.open} isAnimationActive={false} />
          <Bar dataKey="blocked" stackId="a" fill={COLORS.blocked} isAnimationActive={false} />
        </BarChart>
      </ChartFigure>
    </div>
  );
}
