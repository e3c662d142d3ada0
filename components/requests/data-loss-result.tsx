import type { DataLossReportView } from '@/lib/domain/data-loss';

const STATUS_STYLE: Record<string, string> = {
  unchanged: 'text-slate-600',
  'changed as declared': 'text-blue-800',
  'dropped as declared': 'text-blue-800',
  added: 'text-slate-600',
  'undeclared changes': 'font-medium text-red-800',
};

/**
 * The data-loss check of a rehearsal with a data sample: per table, rows before and after, what
 * changed as the revision declared, and undeclared changes with a few of the keys that differ.
 */
export function DataLossResult({ dataLoss }: { dataLoss: { passed: boolean; summary: string; report: DataLossReportView | null } }) {
  const { passed, summary, report } = dataLoss;
  // Unchanged tables are the rest: counted, not listed one by one.
  const listed = report?.tables.filter((t) => t.status !== 'unchanged') ?? [];
  const unchanged = (report?.tables.length ?? 0) - listed.length;
  return (
    <div data-testid="data-loss" data-passed={String(passed)} className={`rounded-md px-3 py-2 ${passed ? 'bg-emerald-50 text-emerald-900' : 'bg-red-50 text-red-900'}`}>
      <p className="font-medium">{passed ? 'No data loss in the sample' : 'Data changed that the revision does not declare'}</p>
      <p className="text-xs [overflow-wrap:anywhere]">{summary}</p>
      {report && (
        <>
          {listed.length > 0 && (
          <table className="mt-1 w-full text-left text-xs">
            <thead className="text-slate-500">
              <tr><th className="pr-2 font-medium">Table</th><th className="pr-2 font-medium">Rows before → after</th><th className="pr-2 font-medium">Result</th><th className="font-medium">Detail</th></tr>
            </thead>
            <tbody>
              {listed.map((t) => (
                <tr key={t.table} data-table={t.table} data-status={t.status} className="align-top">
                  <td className="pr-2 font-mono">{t.table}</td>
                  <td className="pr-2 tabular-nums">{t.rowsBefore ?? '—'} → {t.rowsAfter ?? '—'}</td>
                  <td className={`pr-2 ${STATUS_STYLE[t.status] ?? ''}`}>{t.status}</td>
                  <td className="[overflow-wrap:anywhere]">
                    {[...t.problems, ...t.declared, ...t.notes].map((line) => <p key={line}>{line}</p>)}
                    {t.keysUnavailable && <p>Keys cannot be named: {t.keysUnavailable}.</p>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          )}
          {!passed && report.tables.filter((t) => t.suggestedDeclaration).map((t) => (
            <p key={t.table} data-testid="data-loss-suggestion" className="font-mono text-[11px] [overflow-wrap:anywhere]">To declare it: {t.suggestedDeclaration}</p>
          ))}
          <p className="mt-1 text-[11px] text-slate-600">
            {unchanged > 0 && `${unchanged} other table${unchanged === 1 ? '' : 's'} unchanged. `}
            Counts and checksums computed in the sandbox, before and after up; differing keys found by bisecting key ranges.
          </p>
          {report.unknownDeclarations.length > 0 && <p className="text-[11px]">Declared but not found: {report.unknownDeclarations.join('; ')}</p>}
        </>
      )}
    </div>
  );
}
