'use client';

import { useState, useTransition } from 'react';
import { testTargetConnectionAction } from '@/lib/actions/admin-actions';
import type { TargetView } from '@/lib/data/admin';
import { EnvironmentBadge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { TargetForm } from './target-form';

type Check = { ok: true; text: string } | { ok: false; text: string };

export function TargetList({ targets }: { targets: TargetView[] }) {
  const [checks, setChecks] = useState<Record<string, Check>>({});
  const [editing, setEditing] = useState<string | null>(null);
  const [testing, setTesting] = useState<string | null>(null);
  const [, startTransition] = useTransition();

  function test(id: string) {
    setTesting(id);
    startTransition(async () => {
      const res = await testTargetConnectionAction({ targetId: id });
      const check: Check = !res.ok
        ? { ok: false, text: res.message }
        : res.data.ok
          ? { ok: true, text: `Connected: ${res.data.serverVersion} (${res.data.latencyMs} ms)` }
          : { ok: false, text: res.data.error };
      setChecks((c) => ({ ...c, [id]: check }));
      setTesting(null);
    });
  }

  if (targets.length === 0) return <p className="text-sm text-slate-600">No targets yet.</p>;
  return (
    <ul className="space-y-3">
      {targets.map((t) => (
        <li key={t.id} className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm" data-testid="target">
          <div className="flex flex-wrap items-center gap-2">
            <span className="font-semibold">{t.name}</span>
            <EnvironmentBadge environment={t.environment} />
            <span className="text-xs text-slate-500">{t.engine}</span>
            <span className="ml-auto flex gap-2">
              <Button variant="secondary" onClick={() => test(t.id)} disabled={testing === t.id}>
                {testing === t.id ? 'Testing…' : 'Test connection'}
              </Button>
              <Button variant="secondary" onClick={() => setEditing(editing === t.id ? null : t.id)}>{editing === t.id ? 'Close' : 'Edit'}</Button>
            </span>
          </div>
          <p className="mt-1 font-mono text-xs text-slate-600">
            {t.username}@{t.host}:{t.port}/{t.database} · ssl {t.sslMode} · password {t.hasPassword ? 'set' : 'none'}
          </p>
          <p className="mt-1 text-xs text-slate-600">
            Runs stop after {Math.round(t.runDeadlineMs / 60_000)} min · rehearsals in {t.hasRehearsalServer ? 'the rehearsal server set for it' : 'Cutover\'s sandbox'}
          </p>
          {t.allowedStatementKinds.length > 0 && (
            <p className="mt-1 text-xs text-amber-800" data-testid="fence-allowances">
              SQL fence lets through here: {t.allowedStatementKinds.join(', ')}
            </p>
          )}
          <div aria-live="polite">
            {checks[t.id] && (
              <p data-testid="connection-result" className={`mt-2 rounded-md px-3 py-1.5 text-sm ${checks[t.id].ok ? 'bg-emerald-50 text-emerald-800' : 'bg-red-50 text-red-800'}`}>
                {checks[t.id].text}
              </p>
            )}
          </div>
          {editing === t.id && <div className="mt-3 border-t border-slate-100 pt-3"><TargetForm target={t} /></div>}
        </li>
      ))}
    </ul>
  );
}
