import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rehearseMigration } from '@/lib/engine/postgres/rehearsal';
import { DEFAULT_FENCE_ALLOWANCES } from '@/lib/engine/postgres/sql-guard';
import { sandboxForFile, settingsOf } from '../support/sandbox';
import { createScratchDatabase, withClient } from '../support/scratch-db';

/**
 * "Verify rollback works" is only as good as the snapshot: a down.sql that forgets a function, a
 * trigger, a policy, row-level security, a comment or a domain must fail it, naming what is left.
 */
let target: Awaited<ReturnType<typeof createScratchDatabase>>;
const sandbox = sandboxForFile();

beforeAll(async () => {
  target = await createScratchDatabase('cutover_rollback');
  // The trigger's function is the target's already, so that a down.sql forgetting the trigger can still drop everything else.
  await withClient(target.url, (c) =>
    c.query(`CREATE TABLE accounts (id serial PRIMARY KEY, owner text NOT NULL, balance integer NOT NULL DEFAULT 0);
             CREATE TABLE orders (id serial PRIMARY KEY, note text, total integer NOT NULL DEFAULT 0);
             CREATE FUNCTION lower_owner() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.owner := lower(NEW.owner); RETURN NEW; END $$;`),
  );
});
afterAll(() => target.drop());

/** Each part of the migration with the line of down.sql that undoes it. */
const PARTS = {
  domain: {
    up: `CREATE DOMAIN cents AS integer CHECK (VALUE >= 0);`,
    down: `DROP DOMAIN cents;`,
    left: /^- type public\.cents \(domain\)$/,
  },
  function: {
    up: `CREATE FUNCTION balance_of(account integer) RETURNS integer LANGUAGE sql STABLE AS 'SELECT balance FROM accounts WHERE id = account';`,
    down: `DROP FUNCTION balance_of(integer);`,
    left: /^- function public\.balance_of\(account integer\) \(function\)$/,
  },
  trigger: {
    up: `CREATE TRIGGER accounts_owner BEFORE INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION lower_owner();`,
    down: `DROP TRIGGER accounts_owner ON accounts;`,
    left: /^- trigger accounts_owner on public\.accounts CREATE TRIGGER accounts_owner BEFORE INSERT ON public\.accounts FOR EACH ROW EXECUTE FUNCTION lower_owner\(\)$/,
  },
  rls: {
    up: `ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;`,
    down: `ALTER TABLE accounts DISABLE ROW LEVEL SECURITY;`,
    left: /^~ table public\.accounts: row-level security (enabled|disabled)$/,
  },
  policy: {
    up: `CREATE POLICY own_accounts ON accounts USING (owner = current_user);`,
    down: `DROP POLICY own_accounts ON accounts;`,
    left: /^- policy own_accounts on public\.accounts FOR ALL TO PUBLIC USING \(\(owner = CURRENT_USER\)\)$/,
  },
  comment: {
    up: `COMMENT ON COLUMN accounts.balance IS 'in cents';`,
    down: `COMMENT ON COLUMN accounts.balance IS NULL;`,
    left: /^- comment on table column public\.accounts\.balance "in cents"$/,
  },
} as const;
type Part = keyof typeof PARTS;
const ORDER: Part[] = ['domain', 'function', 'trigger', 'rls', 'policy', 'comment'];
const upSql = ORDER.map((p) => PARTS[p].up).join('\n') + '\n';
/** down.sql undoes in reverse order, leaving out `forget`. */
const downSql = (forget?: Part) => [...ORDER].reverse().filter((p) => p !== forget).map((p) => PARTS[p].down).join('\n') + '\n';

const rehearse = (downSqlText: string) =>
  rehearseMigration(settingsOf(target.url), { name: '20260101000000_accounts', upSql, downSql: downSqlText }, { sandbox: sandbox(), fence: DEFAULT_FENCE_ALLOWANCES });

describe('the rollback proof sees every object kind', () => {
  it('passes with a complete down.sql, after showing each part among the changes', async () => {
    const result = await rehearse(downSql());
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.hashes.afterDown).toBe(result.hashes.before);
    const changes = result.phases.find((p) => p.phase === 'verify-schema')!.changes!;
    // What up did, said in words, one line per object (the inverse of what a forgetful down leaves).
    for (const part of ORDER) {
      const added = PARTS[part].left.source.replace('^- ', '^\\+ ').replace('(enabled|disabled)', 'enabled');
      expect(changes.join('\n'), part).toMatch(new RegExp(added, 'm'));
    }
  });

  it.each(ORDER)('fails "Verify rollback works" when down.sql forgets the %s, and names it', async (part) => {
    const result = await rehearse(downSql(part));
    expect(result.ok).toBe(false);
    const verify = result.phases.find((p) => p.phase === 'verify-rollback')!;
    expect(verify.status).toBe('failed');
    expect(verify.hash).not.toBe(result.hashes.before);
    // Exactly the forgotten object is left over, in words (sign inverted: it is there after down).
    expect(verify.changes).toHaveLength(1);
    const line = verify.changes![0].replace(/^\+ /, '- ');
    expect(line).toMatch(PARTS[part].left);
    expect(result.phases.at(-1)!.phase).toBe('drop');
  });
});

describe('a dropped column re-added by down.sql', () => {
  const rehearseDrop = (downSqlText: string) =>
    rehearseMigration(settingsOf(target.url), { name: '20260102000000_drop_note', upSql: 'ALTER TABLE orders DROP COLUMN note;\n', downSql: downSqlText }, { sandbox: sandbox(), fence: DEFAULT_FENCE_ALLOWANCES });

  it('verifies the rollback although the column comes back last, and says why in words', async () => {
    const result = await rehearseDrop('ALTER TABLE orders ADD COLUMN note text;\n');
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
    const verify = result.phases.find((p) => p.phase === 'verify-rollback')!;
    expect(verify.status).toBe('ok');
    expect(verify.detail).toBe('the schema after down equals the original except the column order of public.orders (note is now last): PostgreSQL re-adds a column at the end');
    expect(verify.changes).toEqual(['~ table public.orders: column order id, note, total -> id, total, note (note is now last)']);
    // The snapshots still differ (as pg_dump's would); only the verdict tolerates the order.
    expect(result.hashes.afterDown).not.toBe(result.hashes.before);
    // The redo check stays strict: the second up gives the first up's schema exactly.
    expect(result.phases.find((p) => p.phase === 'redo')!.status).toBe('ok');
    expect(result.hashes.afterRedo).toBe(result.hashes.afterUp);
  });

  it('still fails when anything besides the column order differs', async () => {
    const result = await rehearseDrop('ALTER TABLE orders ADD COLUMN note varchar(20);\n');
    expect(result.ok).toBe(false);
    const verify = result.phases.find((p) => p.phase === 'verify-rollback')!;
    expect(verify.status).toBe('failed');
    expect(verify.changes).toContain('~ column public.orders.note: text -> character varying(20)');
    expect(verify.changes!.join('\n')).not.toMatch(/[{}]/);
  });
});
