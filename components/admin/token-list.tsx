'use client';

import { useState } from 'react';
import { revokeApiTokenAction } from '@/lib/actions/token-actions';
import type { ApiTokenView } from '@/lib/data/api-tokens';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { useActionCall } from '@/components/requests/use-action-call';
import { RevokeTokenDialog, TOKEN_STATE_TONE as stateTone, tokenTime as when } from './token-parts';

export function TokenList({ tokens }: { tokens: ApiTokenView[] }) {
  const [revoking, setRevoking] = useState<ApiTokenView | null>(null);
  const { pending, error, call } = useActionCall();
  if (tokens.length === 0) return <p className="text-sm text-slate-600">No tokens yet.</p>;
  return (
    <>
      {error && <p role="alert" className="mb-3 rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{error}</p>}
      <table className="w-full text-left text-sm">
        <thead className="text-xs uppercase tracking-wide text-slate-500">
          <tr><th className="py-1.5">Name</th><th>Role</th><th>Token</th><th>Last used</th><th>Expires</th><th>State</th><th /></tr>
        </thead>
        <tbody>
          {tokens.map((t) => (
            <tr key={t.id} className="border-t border-slate-200" data-testid="api-token" data-name={t.name}>
              <td className="py-2">
                <div className="font-medium">{t.name}</div>
                <div className="text-xs text-slate-500">issued {when(t.createdAt)}{t.issuedBy ? ` by ${t.issuedBy}` : ''}</div>
              </td>
              <td>{t.role}</td>
              <td><code className="font-mono text-xs">{t.prefix}…</code></td>
              <td data-testid="last-used">{when(t.lastUsedAt)}</td>
              <td>{when(t.expiresAt)}</td>
              <td><Badge tone={stateTone[t.state]}>{t.state}</Badge></td>
              <td className="text-right">
                {t.state !== 'revoked' && <Button variant="danger" disabled={pending} onClick={() => setRevoking(t)}>Revoke</Button>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <RevokeTokenDialog token={revoking} onClose={() => setRevoking(null)} onRevoke={(tokenId) => call(() => revokeApiTokenAction({ tokenId }))}>
        <p>Calls with this token are refused from now on, and work its account started is refused where it is checked again. This cannot be undone; issue a new token instead.</p>
      </RevokeTokenDialog>
    </>
  );
}
