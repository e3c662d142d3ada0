import type { NextRequest } from 'next/server';
import { handle, handleJson } from '@/lib/api/route';
import { listRequests } from '@/lib/data/requests';
import { fileRequest } from '@/lib/services/file-request';
import { FileRequestSchema, ListRequestsSchema } from '@/lib/validation/request';

/** GET /api/v1/requests?status=&kind=&targetId=&agentRole=&mine=&page=&pageSize= */
export async function GET(req: NextRequest) {
  const query = Object.fromEntries(req.nextUrl.searchParams);
  return handle(ListRequestsSchema, query, async (actor, filters) => {
    const { rows, total } = await listRequests(actor, filters);
    return { total, page: filters.page, pageSize: filters.pageSize, requests: rows };
  });
}

/** POST /api/v1/requests: files a request (JSON body as the form) and answers 201 with its id. */
export async function POST(req: NextRequest) {
  return handleJson(req, FileRequestSchema, (body) => body, (actor, input) => fileRequest(actor.id, input), 201);
}
