import { Card } from '@/components/ui/card';
import { formatTime } from '@/components/ui/progress';

interface Entry {
  id: string;
  action: string;
  actor: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  createdAt: Date;
}

function summary(v: Record<string, unknown> | null): string {
  if (!v) return '';
  return Object.entries(v)
    .filter(([, x]) => x !== null && x !== undefined)
    .map(([k, x]) => `${k}: ${typeof x === 'object' ? JSON.stringify(x) : String(x)}`)
    .join(', ');
}

export function AuditLog({ entries }: { entries: Entry[] }) {
  return (
    <Card title="Audit log">
      <ol className="space-y-3 text-sm" data-testid="audit-log">
        {entries.map((e) => (
          <li key={e.id} className="border-l-2 border-slate-200 pl-3 [overflow-wrap:anywhere]">
            <div className="font-medium text-slate-800">
              {e.action} <span className="font-normal text-slate-500">by {e.actor}</span>
            </div>
            <div className="text-xs text-slate-500">{formatTime(e.createdAt)}</div>
            {e.before && <div className="mt-0.5 text-xs text-slate-600"><span className="font-medium">before</span> {summary(e.before)}</div>}
            {e.after && <div className="text-xs text-slate-600"><span className="font-medium">after</span> {summary(e.after)}</div>}
          </li>
        ))}
      </ol>
    </Card>
  );
}
