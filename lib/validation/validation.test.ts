import { describe, expect, it } from 'vitest';
import { CreateUserSchema, TargetSchema, UpdateUserRolesSchema } from './admin';
import { fieldErrors } from './common';
import { FileRequestSchema, ListRequestsSchema } from './request';
import { AddTaskNoteSchema, BlockTaskSchema, ReleaseTaskSchema, SignGateItemSchema, TaskTransitionSchema, ToggleChecklistItemSchema } from './task';
import { UpdateTaskSchema, parseOrRefuse } from './agent';

const uuid = '3f1c1f0e-8d7a-4b6e-9a41-2b1f4c1d9e10';
const good = { title: 'Add orders.shipped_at', kind: 'table_column_change', targetId: uuid, description: 'Add a nullable timestamp column.' };

function errorsOf(schema: { safeParse(v: unknown): { success: boolean; error?: unknown } }, value: unknown) {
  const r = schema.safeParse(value);
  expect(r.success).toBe(false);
  return fieldErrors(r.error as never);
}

describe('FileRequestSchema', () => {
  it('accepts a good request, trims text and defaults priority to HIGH', () => {
    const r = FileRequestSchema.parse({ ...good, title: '  Add orders.shipped_at  ' });
    expect(r.title).toBe('Add orders.shipped_at');
    expect(r.priority).toBe('HIGH');
  });

  it('gives a message per missing field', () => {
    const e = errorsOf(FileRequestSchema, {});
    expect(Object.keys(e).sort()).toEqual(['description', 'kind', 'targetId', 'title']);
    expect(e.title[0]).toBe('Give the request a title.');
    expect(e.kind[0]).toBe('Choose what kind of change this is.');
    expect(e.targetId[0]).toBe('Choose a target database.');
  });

  it('refuses wrong types, unknown kinds and priorities, and bad ids', () => {
    const e = errorsOf(FileRequestSchema, { title: 42, kind: 'drop_everything', targetId: 'not-an-id', description: ['x'], priority: 'URGENT' });
    expect(Object.keys(e).sort()).toEqual(['description', 'kind', 'priority', 'targetId', 'title']);
  });

  it('sets limits on text', () => {
    expect(errorsOf(FileRequestSchema, { ...good, title: 'x'.repeat(201) }).title[0]).toMatch(/at most 200/);
    expect(errorsOf(FileRequestSchema, { ...good, title: ' ab ' }).title[0]).toMatch(/at least 3/);
    expect(errorsOf(FileRequestSchema, { ...good, description: 'y'.repeat(10_001) }).description[0]).toMatch(/at most 10000/);
    expect(errorsOf(FileRequestSchema, { ...good, description: 'short' }).description[0]).toMatch(/at least 10/);
  });
});

describe('ListRequestsSchema', () => {
  it('coerces query-string values and defaults paging', () => {
    expect(ListRequestsSchema.parse({ page: '3', mine: 'true' })).toMatchObject({ page: 3, pageSize: 25, mine: true });
  });
  it('refuses unknown statuses and absurd pages', () => {
    expect(ListRequestsSchema.safeParse({ status: 'exploded' }).success).toBe(false);
    expect(ListRequestsSchema.safeParse({ page: '0' }).success).toBe(false);
    expect(ListRequestsSchema.safeParse({ pageSize: '1000' }).success).toBe(false);
  });
});

describe('task schemas', () => {
  it('accept well-formed input', () => {
    expect(TaskTransitionSchema.parse({ taskId: uuid, transition: 'start' }).transition).toBe('start');
    expect(BlockTaskSchema.parse({ taskId: uuid, reason: '  waiting for the DBA  ' }).reason).toBe('waiting for the DBA');
    expect(ToggleChecklistItemSchema.parse({ itemId: uuid, done: true }).done).toBe(true);
    expect(AddTaskNoteSchema.parse({ taskId: uuid, body: 'ok' }).body).toBe('ok');
    expect(SignGateItemSchema.parse({ gateItemId: uuid }).note).toBeUndefined();
  });
  it('refuse bad input with messages', () => {
    expect(errorsOf(TaskTransitionSchema, { taskId: uuid, transition: 'block' }).transition[0]).toBe('Unknown task action.');
    expect(errorsOf(TaskTransitionSchema, { taskId: 'x', transition: 'start' }).taskId[0]).toBe('Not a valid id.');
    expect(errorsOf(BlockTaskSchema, { taskId: uuid, reason: ' ' }).reason[0]).toMatch(/Say why/);
    expect(errorsOf(BlockTaskSchema, { taskId: uuid, reason: 'r'.repeat(1001) }).reason[0]).toMatch(/at most 1000/);
    expect(errorsOf(ToggleChecklistItemSchema, { itemId: uuid, done: 'yes' }).done).toBeDefined();
    expect(errorsOf(AddTaskNoteSchema, { taskId: uuid, body: 'n'.repeat(5001) }).body[0]).toMatch(/at most 5000/);
    expect(errorsOf(SignGateItemSchema, { gateItemId: uuid, note: 'n'.repeat(5001) }).note).toBeDefined();
  });
  it('release takes an optional reason', () => {
    expect(ReleaseTaskSchema.parse({ taskId: uuid })).toEqual({ taskId: uuid });
    expect(ReleaseTaskSchema.parse({ taskId: uuid, reason: '  restarting  ' }).reason).toBe('restarting');
    expect(errorsOf(ReleaseTaskSchema, { taskId: uuid, reason: 'r'.repeat(1001) }).reason[0]).toMatch(/at most 1000/);
    expect(errorsOf(ReleaseTaskSchema, { taskId: uuid, reason: 'a\u0000b' }).reason[0]).toMatch(/NUL/);
  });
  it('a task update takes TaskUpdate statuses and names an unknown field instead of dropping it', () => {
    expect(UpdateTaskSchema.parse({ taskId: uuid, status: 'pending' }).status).toBe('pending');
    expect(errorsOf(UpdateTaskSchema, { taskId: uuid, statuss: 'in_progress' })).toEqual({
      statuss: ['Unknown field "statuss".'],
      checklist: ['Send checklist changes, a note, a status, or several.'],
    });
    expect(errorsOf(UpdateTaskSchema, { taskId: uuid, status: 'completed' }).status[0]).toMatch(/POST \.\.\.\/complete/);
    expect(() => parseOrRefuse(UpdateTaskSchema, { taskId: uuid, note: 'x', owner: 'me' })).toThrow('Unknown field "owner".');
    // A key that is also Object.prototype's name is a field like any other (JSON.parse makes it an own one).
    expect(errorsOf(UpdateTaskSchema, JSON.parse(`{"taskId": "${uuid}", "note": "x", "__proto__": "y"}`))).toEqual(JSON.parse('{"__proto__": ["Unknown field \\"__proto__\\"."]}'));
  });
});

describe('admin schemas', () => {
  const target = { name: 'Orders staging', environment: 'staging', host: 'db.internal', port: '5432', database: 'orders', username: 'cutover' };

  it('coerce the port and default engine, SSL and timeout', () => {
    expect(TargetSchema.parse(target)).toMatchObject({ port: 5432, engine: 'postgresql', sslMode: 'disable', connectTimeoutMs: 5000 });
  });
  it('refuse impossible ports, unknown environments and engines not yet supported', () => {
    expect(errorsOf(TargetSchema, { ...target, port: '70000' }).port[0]).toMatch(/1 to 65535/);
    expect(errorsOf(TargetSchema, { ...target, port: 'abc' }).port).toBeDefined();
    expect(errorsOf(TargetSchema, { ...target, environment: 'qa' }).environment[0]).toBe('Choose an environment.');
    expect(errorsOf(TargetSchema, { ...target, engine: 'mysql' }).engine[0]).toMatch(/Only PostgreSQL/);
    expect(errorsOf(TargetSchema, { ...target, connectTimeoutMs: '10' }).connectTimeoutMs[0]).toMatch(/500/);
  });
  it('ask server engines for host, port and user, and file-based engines for an absolute file path', () => {
    const missing = errorsOf(TargetSchema, { ...target, host: '', port: '', username: ' ' });
    expect([missing.host[0], missing.port[0], missing.username[0]]).toEqual(['Give the host name or address.', 'Give the port.', 'Give the user name.']);
    const file = { name: 'App file', engine: 'sqlite', environment: 'staging', database: 'main' };
    expect(errorsOf(TargetSchema, file).filePath[0]).toBe('Give the path of the database file.');
    expect(errorsOf(TargetSchema, { ...file, filePath: 'app.db' }).filePath[0]).toMatch(/absolute path/);
    // SQLite comes later: a complete file target is still refused by engine, not by its fields.
    expect(Object.keys(errorsOf(TargetSchema, { ...file, filePath: '/srv/app.db' }))).toEqual(['engine']);
  });
  it('validate people: email, password length, known roles', () => {
    expect(CreateUserSchema.parse({ email: 'A@B.io', name: 'A', password: 'x'.repeat(12) })).toMatchObject({ email: 'a@b.io', roles: [], agentRoles: [] });
    const e = errorsOf(CreateUserSchema, { email: 'nope', name: '', password: 'short', roles: ['king'], agentRoles: ['wizard'] });
    expect(Object.keys(e).sort()).toEqual(['agentRoles', 'email', 'name', 'password', 'roles']);
    expect(UpdateUserRolesSchema.safeParse({ userId: uuid, roles: ['admin'], agentRoles: ['test-automator'] }).success).toBe(true);
  });
});
