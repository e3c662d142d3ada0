'use client';

import type { ReactNode } from 'react';
import { ConfirmDialog } from '@/components/ui/confirm-dialog';

/** Token lists (Admin > API tokens, Admin > Agents): times in UTC to the minute, or a dash. */
export const tokenTime = (d: Date | null) => (d ? new Date(d).toISOString().slice(0, 16).replace('T', ' ') + ' UTC' : '—');
export const TOKEN_STATE_TONE = { active: 'green', expired: 'amber', revoked: 'red' } as const;

/** The confirmation before a token is revoked; `children` says what revoking it does to its account. */
export function RevokeTokenDialog({ token, onClose, onRevoke, children }: {
  token: { id: string; name: string } | null;
  onClose: () => void;
  onRevoke: (tokenId: string) => void;
  children: ReactNode;
}) {
  return (
    <ConfirmDialog
      open={token !== null}
      title={`Revoke "${token?.name}"?`}
      confirmLabel="Revoke token"
      danger
      onClose={onClose}
      onConfirm={() => {
        const id = token!.id;
        onClose();
        onRevoke(id);
      }}
    >
      {children}
    </ConfirmDialog>
  );
}
