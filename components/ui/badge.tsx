const tones = {
  slate: 'bg-slate-100 text-slate-700 ring-slate-300',
  blue: 'bg-blue-50 text-blue-800 ring-blue-300',
  green: 'bg-emerald-50 text-emerald-800 ring-emerald-300',
  amber: 'bg-amber-50 text-amber-900 ring-amber-300',
  red: 'bg-red-50 text-red-800 ring-red-300',
  violet: 'bg-violet-50 text-violet-800 ring-violet-300',
} as const;
export type Tone = keyof typeof tones;

export function Badge({ tone = 'slate', children }: { tone?: Tone; children: React.ReactNode }) {
  return (
    <span className={`inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${tones[tone]}`}>
      {children}
    </span>
  );
}

const statusTone: Record<string, Tone> = {
  pending: 'slate', open: 'slate', in_progress: 'blue', completed: 'green', blocked: 'red',
};
const envTone: Record<string, Tone> = { local: 'slate', staging: 'amber', production: 'violet' };

export function StatusBadge({ status }: { status: string }) {
  return <Badge tone={statusTone[status] ?? 'slate'}>{status.replace('_', ' ')}</Badge>;
}

export function EnvironmentBadge({ environment }: { environment: string }) {
  return <Badge tone={envTone[environment] ?? 'slate'}>{environment}</Badge>;
}
