import { Card, PageTitle } from '@/components/ui/card';
import { TokenForm } from '@/components/admin/token-form';
import { TokenList } from '@/components/admin/token-list';
import { listApiTokens } from '@/lib/data/api-tokens';
import { getViewer } from '@/lib/data/viewer';
import { canManageUsers } from '@/lib/domain/permissions';

export const metadata = { title: 'API tokens' };

export default async function TokensPage() {
  const viewer = await getViewer();
  if (!canManageUsers(viewer)) return <p role="alert" className="text-sm">API tokens are managed by admins.</p>;
  const tokens = await listApiTokens(viewer);
  return (
    <>
      <PageTitle sub="For CI and automation: each token acts as its own account holding one role, through /api/v1 with Authorization: Bearer. Shown once, stored hashed, revocable.">
        API tokens
      </PageTitle>
      <div className="grid gap-5 lg:grid-cols-5">
        <div className="lg:col-span-3"><Card title="Tokens"><TokenList tokens={tokens} /></Card></div>
        <div className="lg:col-span-2"><Card title="Issue a token"><TokenForm /></Card></div>
      </div>
    </>
  );
}
