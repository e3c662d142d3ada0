import { Card, PageTitle } from '@/components/ui/card';
import { listAgents } from '@/lib/data/agents';
import { getViewer } from '@/lib/data/viewer';
import { canManageUsers } from '@/lib/domain/permissions';
import { AgentCard, CreateAgentForm } from './agent-forms';

export const metadata = { title: 'Agents' };

export default async function AgentsPage() {
  const viewer = await getViewer();
  if (!canManageUsers(viewer)) return <p role="alert" className="text-sm">Agent accounts are managed by admins.</p>;
  const { agents, people } = await listAgents(viewer);
  return (
    <>
      <PageTitle sub="AI agents working their roles' tasks through /api/v1/tasks and the MCP server, each with a person who answers for it. Agents never sign the quality gate nor approve production. Pausing refuses all of an agent's tokens at once.">
        Agents
      </PageTitle>
      <div className="grid gap-5 lg:grid-cols-5">
        <div className="space-y-5 lg:col-span-3">
          {agents.length === 0 && <Card><p className="text-sm text-slate-600">No agent accounts yet.</p></Card>}
          {agents.map((a) => <AgentCard key={a.id} agent={a} people={people} />)}
        </div>
        <div className="lg:col-span-2"><Card title="Add an agent"><CreateAgentForm people={people} /></Card></div>
      </div>
    </>
  );
}
