'use client';

import { useEffect, useId, useRef } from 'react';
import { Button } from './button';

/**
 * Asks before something that cannot be taken back. A modal <dialog>: the page behind it is inert,
 * Escape or "Not now" closes it, and nothing is sent until the confirm button is pressed.
 */
export function ConfirmDialog({ open, title, confirmLabel, danger, onConfirm, onClose, children }: {
  open: boolean;
  title: string;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => void;
  onClose: () => void;
  children: React.ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);

  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      onClose={onClose}
      // m-auto: Tailwind's preflight zeroes <dialog>'s margin, which pins a modal to the top-left corner.
      className="m-auto max-h-[calc(100vh-2rem)] w-[min(44rem,calc(100vw-2rem))] overflow-y-auto rounded-lg border border-slate-300 p-0 shadow-xl backdrop:bg-slate-900/40"
    >
      {open && (
        <div className="space-y-3 p-5 text-sm">
          <h2 id={titleId} className="text-base font-semibold">{title}</h2>
          {children}
          <div className="flex justify-end gap-2 pt-2">
            <Button variant="secondary" onClick={onClose} autoFocus>Not now</Button>
            <Button variant={danger ? 'danger' : 'primary'} onClick={() => { onConfirm(); onClose(); }}>{confirmLabel}</Button>
          </div>
        </div>
      )}
    </dialog>
  );
}
