import { describeBlockingStatement, lockModeName, statementLabel } from '@/lib/domain/lock-impact';
import type { LockImpactView } from '@/lib/domain/run-results';

type Statement = LockImpactView['statements'][number];
type Sample = NonNullable<Statement['samples']>[number];

const WIDTH = 720;
const LEFT = 52; // room for the latency axis' labels
const RIGHT = 12;
const BAND_TOP = 16; // room above for the numbers of statements too short to hold theirs
const BAND_HEIGHT = 22;
const PLOT_TOP = BAND_TOP + BAND_HEIGHT + 14;
const PLOT_HEIGHT = 150;
const HEIGHT = PLOT_TOP + PLOT_HEIGHT + 26;

const ms = (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`);

/**
 * A few round tick values from 0 to `max`, each with a label of its own: whole milliseconds at
 * least (the labels round to them), so a small maximum gets fewer ticks, not "1 ms, 1 ms".
 */
function ticks(max: number, count = 4): number[] {
  const raw = max / count;
  const pow = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = 0; v <= max + 1e-9; v += step) if (!out.some((t) => ms(t) === ms(v))) out.push(v);
  return out;
}

/** How long a probe's session had been waiting when this query ended: a blocked probe retries, its wait goes on. */
const waited = (s: Sample) => (s.blocked ? (s.waitedMs ?? s.latencyMs) : s.latencyMs);

/**
 * One phase's picture: statements as bands along time (numbered as in the file), and under them
 * every probe query's latency where it started. A blocked probe is a red ramp from when its
 * session began waiting to when this query ended, as high as the session had waited by then: an
 * application query would have waited that long. The dashed line is the target's threshold.
 */
function PhaseTimeline({ phase, statements, thresholdMs, exceeded }: { phase: 'up' | 'down'; statements: Statement[]; thresholdMs: number; exceeded: Set<string> }) {
  const samples: Sample[] = statements.flatMap((s) => s.samples ?? []);
  const start = Math.min(...statements.map((s) => s.startedMs), ...samples.map((s) => s.tMs));
  const end = Math.max(...statements.map((s) => s.startedMs + s.durationMs), ...samples.map((s) => s.tMs + s.latencyMs), start + 1);
  const span = end - start;
  const x = (t: number) => LEFT + ((t - start) / span) * (WIDTH - LEFT - RIGHT);
  const maxLatency = Math.max(1, ...samples.map(waited));
  // The threshold stays in the picture only when a probe came near it: otherwise the dots would flatten against the axis.
  const top = Math.max(maxLatency, maxLatency * 3 >= thresholdMs ? thresholdMs : 0) * 1.1;
  const y = (latency: number) => PLOT_TOP + PLOT_HEIGHT - (latency / top) * PLOT_HEIGHT;
  const over = statements.filter((s) => exceeded.has(`${s.phase}:${s.index}`));
  const blocked = samples.filter((s) => s.blocked);
  const label =
    `Lock-impact timeline of ${phase}: ${statements.length} statement${statements.length === 1 ? '' : 's'} over ${ms(span)}, ` +
    `${samples.length} probe queries, ${blocked.length} of them blocked. ` +
    (over.length
      ? `Over the ${thresholdMs} ms threshold: ${over.map(describeBlockingStatement).join('; ')}.`
      : `No statement kept the probes waiting longer than ${thresholdMs} ms.`);

  return (
    <figure className="space-y-1" data-testid="lock-timeline-phase" data-phase={phase}>
      <figcaption className="text-xs font-semibold text-slate-600">{phase === 'up' ? 'Up (migration.sql)' : 'Down (down.sql)'}</figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} width="100%" role="img" aria-label={label} data-testid="lock-timeline-svg" className="max-w-3xl rounded border border-slate-200 bg-white">
        {/* Statement bands along time. */}
        {statements.map((s) => {
          const x0 = x(s.startedMs);
          const w = Math.max(2, x(s.startedMs + s.durationMs) - x0);
          const isOver = exceeded.has(`${s.phase}:${s.index}`);
          const fill = isOver ? '#fca5a5' : s.probeBlockedMs.max > 0 ? '#fde68a' : '#cbd5e1';
          return (
            <g key={s.index} data-testid="lock-band" data-statement={s.index + 1} data-exceeded={isOver ? 'true' : 'false'}>
              <title>{`${statementLabel(s)}: ${s.sql.slice(0, 80)} — ${ms(s.durationMs)}, probes blocked up to ${ms(s.probeBlockedMs.max)}`}</title>
              <rect x={x0} y={BAND_TOP} width={w} height={BAND_HEIGHT} fill={fill} stroke={isOver ? '#dc2626' : '#64748b'} strokeWidth={isOver ? 1.5 : 0.5} />
              {w >= 14 && <text x={x0 + w / 2} y={BAND_TOP + 15} textAnchor="middle" fontSize="11" fill="#0f172a">{s.index + 1}</text>}
              {/* A short statement that blocked the probes keeps its number, above its band. */}
              {w < 14 && s.probeBlockedMs.max > 0 && <text x={x0 + w / 2} y={BAND_TOP - 4} textAnchor="middle" fontSize="10" fontWeight={600} fill={isOver ? '#b91c1c' : '#0f172a'}>{s.index + 1}</text>}
            </g>
          );
        })}
        {/* Latency axis and grid. */}
        {ticks(top).map((t) => (
          <g key={t}>
            <line x1={LEFT} x2={WIDTH - RIGHT} y1={y(t)} y2={y(t)} stroke="#f1f5f9" />
            <text x={LEFT - 4} y={y(t) + 3} textAnchor="end" fontSize="9" fill="#64748b">{ms(t)}</text>
          </g>
        ))}
        <line x1={LEFT} x2={LEFT} y1={PLOT_TOP} y2={PLOT_TOP + PLOT_HEIGHT} stroke="#94a3b8" />
        <line x1={LEFT} x2={WIDTH - RIGHT} y1={PLOT_TOP + PLOT_HEIGHT} y2={PLOT_TOP + PLOT_HEIGHT} stroke="#94a3b8" />
        {thresholdMs <= top && (
          <g data-testid="lock-threshold">
            <line x1={LEFT} x2={WIDTH - RIGHT} y1={y(thresholdMs)} y2={y(thresholdMs)} stroke="#dc2626" strokeDasharray="4 3" />
            <text x={WIDTH - RIGHT} y={y(thresholdMs) - 3} textAnchor="end" fontSize="9" fill="#dc2626">threshold {ms(thresholdMs)}</text>
          </g>
        )}
        {/* Probe queries: reads as circles, writes as squares; blocked ones red, on the ramp of their session's wait. */}
        {samples.map((s, i) => {
          const end = s.tMs + s.latencyMs;
          const cx = s.blocked ? x(end) : x(s.tMs);
          const cy = y(waited(s));
          const color = s.blocked ? '#dc2626' : s.error ? '#a855f7' : s.kind === 'read' ? '#2563eb' : '#059669';
          return (
            <g key={i} data-testid="lock-sample" data-kind={s.kind} data-blocked={s.blocked ? 'true' : 'false'}>
              {s.blocked && <line x1={x(end - waited(s))} x2={cx} y1={y(0)} y2={cy} stroke={color} strokeWidth={1.25} strokeOpacity={0.7} />}
              {s.kind === 'read'
                ? <circle cx={cx} cy={cy} r={2.5} fill={color} />
                : <rect x={cx - 2.5} y={cy - 2.5} width={5} height={5} fill={color} />}
            </g>
          );
        })}
        <text x={LEFT} y={HEIGHT - 6} fontSize="9" fill="#64748b">0</text>
        <text x={WIDTH - RIGHT} y={HEIGHT - 6} textAnchor="end" fontSize="9" fill="#64748b">{ms(span)}</text>
        <text x={(LEFT + WIDTH) / 2} y={HEIGHT - 6} textAnchor="middle" fontSize="9" fill="#64748b">time since the first statement started · how long each probe waited, upwards</text>
      </svg>
    </figure>
  );
}

/**
 * The rehearsal's lock impact as a picture (per phase: statements against probe latency) and, for
 * screen readers and exact figures, as a table of statements.
 */
export function LockTimeline({ impact }: { impact: LockImpactView }) {
  const exceeded = new Set(impact.exceeded.map((e) => `${e.phase}:${e.index}`));
  const phases = (['up', 'down'] as const).map((phase) => ({ phase, statements: impact.statements.filter((s) => s.phase === phase) })).filter((p) => p.statements.length);
  return (
    <div className="space-y-3" data-testid="lock-timeline">
      <p className="flex flex-wrap gap-3 text-[11px] text-slate-600" aria-hidden>
        <span><span className="mr-1 inline-block h-2 w-2 rounded-full bg-blue-600" />read</span>
        <span><span className="mr-1 inline-block h-2 w-2 bg-emerald-600" />write</span>
        <span><span className="mr-1 inline-block h-2 w-2 bg-red-600" />blocked (ramp: its session waiting, retries included)</span>
        <span><span className="mr-1 inline-block h-2 w-3 bg-red-300" />statement over the threshold</span>
        <span><span className="mr-1 inline-block h-2 w-3 bg-amber-200" />statement that blocked probes</span>
      </p>
      {phases.map((p) => <PhaseTimeline key={p.phase} phase={p.phase} statements={p.statements} thresholdMs={impact.thresholdMs} exceeded={exceeded} />)}
      <table className="w-full text-left text-xs" data-testid="lock-impact-table">
        <caption className="sr-only">Lock impact per statement</caption>
        <thead className="text-slate-500">
          <tr>
            <th scope="col" className="py-1 pr-2 font-medium">Statement</th>
            <th scope="col" className="py-1 pr-2 font-medium">SQL</th>
            <th scope="col" className="py-1 pr-2 text-right font-medium">Ran</th>
            <th scope="col" className="py-1 pr-2 text-right font-medium">Probes blocked (longest / total)</th>
            <th scope="col" className="py-1 pr-2 font-medium">Who waited</th>
            <th scope="col" className="py-1 font-medium">Longest lock it held</th>
          </tr>
        </thead>
        <tbody>
          {impact.statements.map((s) => {
            const isOver = exceeded.has(`${s.phase}:${s.index}`);
            return (
              <tr key={`${s.phase}:${s.index}`} data-testid="lock-impact-row" data-exceeded={isOver ? 'true' : 'false'} className={`border-t border-slate-100 ${isOver ? 'bg-red-50 text-red-900' : ''}`}>
                <td className="py-1 pr-2 whitespace-nowrap">{s.phase} #{s.index + 1} (line {s.line})</td>
                <td className="max-w-xs truncate py-1 pr-2 font-mono" title={s.sql}>{s.sql}</td>
                <td className="py-1 pr-2 text-right tabular-nums">{ms(s.durationMs)}</td>
                <td className="py-1 pr-2 text-right tabular-nums">{ms(s.probeBlockedMs.max)} / {ms(s.probeBlockedMs.total)}{isOver && ' — over the threshold'}</td>
                <td className="py-1 pr-2">{s.blockedKinds?.length ? s.blockedKinds.map((k) => (k === 'read' ? 'readers' : 'writers')).join(', ') : 'nobody'}{s.blockedBy ? ` (${lockModeName(s.blockedBy.mode)} on ${s.blockedBy.relation})` : ''}</td>
                <td className="py-1">{s.longestLock ? `${lockModeName(s.longestLock.mode)} on ${s.longestLock.relation}, ${s.longestLock.heldMs > 0 ? ms(s.longestLock.heldMs) : 'briefly'}` : '—'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
