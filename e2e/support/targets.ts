import { Client } from 'pg';
import { DATABASE_URL } from './env';

/** A registered target's id, read from the e2e store by its name (the demo target, one a spec registered). */
export async function targetIdByName(name: string): Promise<string> {
  const store = new Client({ connectionString: DATABASE_URL });
  await store.connect();
  try {
    const { rows } = await store.query<{ id: string }>('SELECT id FROM target_databases WHERE name = $1', [name]);
    if (!rows[0]) throw new Error(`No target named "${name}" in the e2e store.`);
    return rows[0].id;
  } finally {
    await store.end();
  }
}
