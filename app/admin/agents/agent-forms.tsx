'use client';

import { useActionState, useState } from 'react';
import {
  createAgentAction, issueAgentTokenAction, revokeAgentTokenAction, setAgentPausedAction, setAgentWebhookAction, updateAgentAction,
  type AgentFormState, type AgentWebhookState, type IssueAgentTokenState,
} from '@/lib/actions/agent-actions';
import type { AgentTokenView, AgentView, WebhookDeliveryView } from '@/lib/data/agents';
import { AGENT_ROLES } from '@/lib/domain/roles';
import { MAX_TOKEN_DAYS } from '@/lib/validation/api-token';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { RevokeTokenDialog, TOKEN_STATE_TONE as stateTone, tokenTime as when } from '@/components/admin/token-parts';
import { Field, FormMessage, Select, TextInput } from '@/components/ui/field';
import { useActionCall } from '@/components/requests/use-action-call';

type Person = { id: string; name: string };

function AgentRoleBoxes({ checked, errors }: { checked: readonly string[]; errors?: string[] }) {
  return (
    <fieldset>
      <legend className="text-xs font-semibold uppercase tracking-wide text-slate-500">Agent roles</legend>
      <div className="mt-1 flex flex-wrap gap-x-4 gap-y-1">
        {AGENT_ROLES.map((r) => (
          <label key={r} className="flex items-center gap-1.5 text-sm">
            <input type="checkbox" name="agentRoles" value={r} defaultChecked={checked.includes(r)} /> {r}
          </label>
        ))}
      </div>
      {errors?.length ? <p className="mt-1 text-xs text-red-700">{errors.join(' ')}</p> : null}
    </fieldset>
  );
}

function OwnerSelect({ people, value, errors }: { people: Person[]; value?: string; errors?: string[] }) {
  return (
    <Field name="ownerId" label="Owner" errors={errors} hint="The person who answers for the agent.">
      {(p) => (
        <Select {...p} name="ownerId" defaultValue={value ?? ''}>
          <option value="" disabled>Choose a person…</option>
          {people.map((o) => <option key={o.id} value={o.id}>{o.name}</option>)}
        </Select>
      )}
    </Field>
  );
}

export function CreateAgentForm({ people }: { people: Person[] }) {
  const [state, action, pending] = useActionState<AgentFormState, FormData>(createAgentAction, undefined);
  const errors = state && !state.ok ? (state.fieldErrors ?? {}) : {};
  const values = (state && !state.ok ? state.values : undefined) ?? {};
  return (
    <form action={action} className="space-y-3" noValidate>
      <Field name="name" label="Name" errors={errors.name} hint='Lower-case, such as "dba-agent".'>
        {(p) => <TextInput {...p} name="name" defaultValue={values.name as string} />}
      </Field>
      <AgentRoleBoxes checked={(values.agentRoles as string[]) ?? []} errors={errors.agentRoles} />
      <OwnerSelect people={people} value={values.ownerId as string} errors={errors.ownerId} />
      <FormMessage state={state} />
      <Button type="submit" disabled={pending}>{pending ? 'Adding…' : 'Add agent'}</Button>
    </form>
  );
}

function EditAgentForm({ agent, people }: { agent: AgentView; people: Person[] }) {
  const [state, action, pending] = useActionState<AgentFormState, FormData>(updateAgentAction, undefined);
  const errors = state && !state.ok ? (state.fieldErrors ?? {}) : {};
  return (
    <form action={action} className="space-y-2" noValidate>
      <input type="hidden" name="agentId" value={agent.id} />
      <AgentRoleBoxes checked={agent.agentRoles} errors={errors.agentRoles} />
      <OwnerSelect people={people} value={agent.owner?.id} errors={errors.ownerId} />
      <div className="flex items-center gap-3">
        <Button type="submit" variant="secondary" disabled={pending}>Save roles and owner</Button>
        <FormMessage state={state} />
      </div>
    </form>
  );
}

function IssueAgentTokenForm({ agent }: { agent: AgentView }) {
  const [state, action, pending] = useActionState<IssueAgentTokenState, FormData>(issueAgentTokenAction, undefined);
  const errors = state && !state.ok ? (state.fieldErrors ?? {}) : {};
  const issued = state?.ok ? state.data : null;
  return (
    <div className="space-y-2">
      <form action={action} className="flex flex-wrap items-end gap-3" noValidate>
        <input type="hidden" name="agentId" value={agent.id} />
        <Field name="name" label="Token name" errors={errors.name} hint="Where it is used.">
          {(p) => <TextInput {...p} name="name" defaultValue="main" />}
        </Field>
        <Field name="expiresInDays" label="Expires after (days)" errors={errors.expiresInDays} hint={`Empty: never. At most ${MAX_TOKEN_DAYS}.`}>
          {(p) => <TextInput {...p} name="expiresInDays" type="number" min={1} max={MAX_TOKEN_DAYS} />}
        </Field>
        <Button type="submit" variant="secondary" disabled={pending}>{pending ? 'Issuing…' : 'Issue token'}</Button>
      </form>
      {state && !state.ok && <FormMessage state={state} />}
      {issued && (
        <div className="space-y-2 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm" data-testid="issued-agent-token">
          <p className="font-medium text-amber-900">{issued.name}: this is the only time the token is shown.</p>
          <code className="block break-all rounded bg-white px-2 py-1.5 font-mono text-xs ring-1 ring-amber-200" data-testid="agent-token-secret">{issued.secret}</code>
          <Button type="button" variant="secondary" onClick={() => void navigator.clipboard?.writeText(issued.secret)}>Copy</Button>
          <p className="text-xs text-amber-900">It acts with every agent role of {agent.name}: <code>Authorization: Bearer &lt;token&gt;</code> on <code>/api/v1</code> and <code>/api/mcp</code>.</p>
        </div>
      )}
    </div>
  );
}

function AgentTokens({ tokens }: { tokens: AgentTokenView[] }) {
  const [revoking, setRevoking] = useState<AgentTokenView | null>(null);
  const { pending, error, call } = useActionCall();
  if (tokens.length === 0) return <p className="text-sm text-slate-600">No tokens yet.</p>;
  return (
    <>
      {error && <p role="alert" className="mb-2 rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{error}</p>}
      <table className="w-full text-left text-sm">
        <thead className="text-xs uppercase tracking-wide text-slate-500">
          <tr><th className="py-1.5">Token</th><th>Last used</th><th>Expires</th><th>State</th><th /></tr>
        </thead>
        <tbody>
          {tokens.map((t) => (
            <tr key={t.id} className="border-t border-slate-200" data-testid="agent-token" data-name={t.name}>
              <td className="py-1.5"><span className="font-medium">{t.name}</span> <code className="font-mono text-xs">{t.prefix}…</code></td>
              <td>{when(t.lastUsedAt)}</td>
              <td>{when(t.expiresAt)}</td>
              <td><Badge tone={stateTone[t.state]}>{t.state}</Badge></td>
              <td className="text-right">{t.state !== 'revoked' && <Button variant="danger" disabled={pending} onClick={() => setRevoking(t)}>Revoke</Button>}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <RevokeTokenDialog token={revoking} onClose={() => setRevoking(null)} onRevoke={(tokenId) => call(() => revokeAgentTokenAction({ tokenId }))}>
        <p>Calls with this token are refused from now on; the agent and its other tokens keep working (pause the agent to stop it altogether).</p>
      </RevokeTokenDialog>
    </>
  );
}

const deliveryTone = { delivered: 'green', pending: 'amber', failed: 'red' } as const;

/** The webhook: its URL, the signing secret once after saving, and the latest deliveries with their attempts. */
function AgentWebhook({ agent }: { agent: AgentView }) {
  const [state, action, pending] = useActionState<AgentWebhookState, FormData>(setAgentWebhookAction, undefined);
  const errors = state && !state.ok ? (state.fieldErrors ?? {}) : {};
  const values = (state && !state.ok ? state.values : undefined) ?? {};
  const secret = state?.ok ? state.data.secret : null;
  return (
    <div className="space-y-2" data-testid="agent-webhook">
      <form action={action} className="flex flex-wrap items-end gap-3" noValidate>
        <input type="hidden" name="accountId" value={agent.id} />
        <div className="min-w-72 flex-1">
          <Field name="url" label="Webhook URL" errors={errors.url} hint="Ready tasks of its roles and its runs that ended are POSTed here, signed. Empty: no webhook.">
            {(p) => <TextInput {...p} name="url" type="url" defaultValue={(values.url as string) ?? agent.webhookUrl ?? ''} placeholder="https://agents.example.com/cutover" />}
          </Field>
        </div>
        <Button type="submit" variant="secondary" disabled={pending}>{pending ? 'Saving…' : 'Save webhook'}</Button>
      </form>
      <FormMessage state={state} />
      {secret && (
        <div className="space-y-1 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm" data-testid="webhook-secret">
          <p className="font-medium text-amber-900">Signing secret: shown this once.</p>
          <code className="block break-all rounded bg-white px-2 py-1.5 font-mono text-xs ring-1 ring-amber-200">{secret}</code>
          <p className="text-xs text-amber-900">Check <code>X-Cutover-Signature</code> = <code>sha256=</code>HMAC-SHA256(secret, <code>X-Cutover-Timestamp + &quot;.&quot; + body</code>).</p>
        </div>
      )}
      <DeliveryLog deliveries={agent.deliveries} />
    </div>
  );
}

function DeliveryLog({ deliveries }: { deliveries: WebhookDeliveryView[] }) {
  if (deliveries.length === 0) return <p className="text-xs text-slate-500">No webhook deliveries yet.</p>;
  return (
    <table className="w-full text-left text-xs" data-testid="webhook-deliveries">
      <caption className="py-1 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">Latest deliveries</caption>
      <thead className="text-slate-500"><tr><th className="py-1">Event</th><th>State</th><th>Attempts</th><th>Answer</th><th>When</th></tr></thead>
      <tbody>
        {deliveries.map((d) => (
          <tr key={d.id} className="border-t border-slate-200 align-top" data-testid="webhook-delivery" data-status={d.status}>
            <td className="py-1"><code>{d.eventType}</code> <span className="text-slate-500">#{d.eventId}</span></td>
            <td><Badge tone={deliveryTone[d.status]}>{d.status}</Badge></td>
            <td>{d.attempts}</td>
            <td className="max-w-64 break-words">{d.responseStatus ? `HTTP ${d.responseStatus}` : ''}{d.lastError ? <span className="block text-red-700">{d.lastError}</span> : null}</td>
            <td>{d.status === 'delivered' ? when(d.deliveredAt) : d.status === 'pending' ? `next ${when(d.nextAttemptAt)}` : when(d.createdAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function AgentCard({ agent, people }: { agent: AgentView; people: Person[] }) {
  const { pending, error, call } = useActionCall();
  const paused = agent.pausedAt !== null;
  return (
    <div data-testid="agent" data-name={agent.name}>
      <Card
        title={<span>{agent.name} <span className="text-sm font-normal text-slate-500">(agent of {agent.owner?.name ?? 'nobody'}{agent.owner && !agent.owner.active ? ', who is no longer active' : ''})</span></span>}
        actions={
          <div className="flex items-center gap-2">
            {paused ? <Badge tone="amber">paused {when(agent.pausedAt)}</Badge> : <Badge tone="green">active</Badge>}
            <Button variant={paused ? 'secondary' : 'danger'} disabled={pending} onClick={() => call(() => setAgentPausedAction({ agentId: agent.id, paused: !paused }))}>
              {paused ? 'Resume' : 'Pause'}
            </Button>
          </div>
        }
      >
        <div className="space-y-4">
          {error && <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{error}</p>}
          <EditAgentForm agent={agent} people={people} />
          <AgentTokens tokens={agent.tokens} />
          <IssueAgentTokenForm agent={agent} />
          <AgentWebhook agent={agent} />
        </div>
      </Card>
    </div>
  );
}
