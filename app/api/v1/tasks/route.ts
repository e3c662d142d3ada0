import type { NextRequest } from 'next/server';
import { handle } from '@/lib/api/route';
import { listTasks } from '@/lib/services/agent-tasks';
import { TaskFilterSchema } from '@/lib/validation/agent';

/** GET /api/v1/tasks?role=&status=&ready=true&requestId=&mine=true&limit=&cursor= : tasks in TaskCreate's shape. */
export async function GET(req: NextRequest) {
  const query = Object.fromEntries(req.nextUrl.searchParams);
  return handle(TaskFilterSchema, query, (actor, filter) => listTasks(actor.id, filter));
}
