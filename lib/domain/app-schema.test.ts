import { describe, expect, it } from 'vitest';
import { AppSchemaEvidenceSchema, appSchemaAgrees, appSchemaSummary, appSourceChange, carriedOverIntended, markPreExisting, openDifferences } from './app-schema';

const commit = 'a'.repeat(40);
const diff = (key: string, description = `${key} differs`) => ({ key, description });
const note = (key: string) => ({ key, note: 'the app reads it later', by: 'Lina', at: '2026-11-26T08:00:00.000Z' });

describe('app_schema evidence', () => {
  it('agrees with no differences, or when every difference is recorded as intended', () => {
    expect(appSchemaAgrees({ differences: [], intended: [] })).toBe(true);
    expect(appSchemaAgrees({ differences: [diff('a'), diff('b')], intended: [note('a')] })).toBe(false);
    expect(openDifferences({ differences: [diff('a'), diff('b')], intended: [note('a')] })).toEqual([diff('b')]);
    expect(appSchemaAgrees({ differences: [diff('a'), diff('b')], intended: [note('a'), note('b')] })).toBe(true);
  });

  it('summarises in one line', () => {
    expect(appSchemaSummary({ branch: 'feature/x', commit, differences: [], intended: [] })).toBe('schema.prisma on feature/x @ aaaaaaaaaaaa agrees with the rehearsed schema');
    expect(appSchemaSummary({ branch: 'f', commit, differences: [diff('a'), diff('b')], intended: [note('a')] })).toMatch(/1 of 2 differences not explained/);
    expect(appSchemaSummary({ branch: 'f', commit, differences: [diff('a')], intended: [note('a')] })).toMatch(/1 difference, all recorded as intended/);
  });

  it('speaks for the request only while it names the project and branch compared', () => {
    const compared = { repository: 'git@example.com:shop.git', projectId: 'p1', branch: 'feature/a' };
    const now = { projectId: 'p1', projectName: 'Shop', appBranch: 'feature/a' };
    expect(appSourceChange(compared, now)).toBeNull();
    expect(appSourceChange(compared, { ...now, appBranch: 'feature/b' })).toBe('The comparison was of branch feature/a; the request now names branch feature/b: compare again.');
    expect(appSourceChange(compared, { ...now, appBranch: null })).toBe('The comparison was of branch feature/a; the request now names no app branch: compare again.');
    expect(appSourceChange(compared, { ...now, projectId: 'p2', projectName: 'Shop admin' })).toBe('The comparison was of git@example.com:shop.git; the request now names project Shop admin: compare again.');
    // Records made before the project was kept are held to their branch.
    expect(appSourceChange({ repository: compared.repository, branch: 'feature/a' }, { ...now, projectId: 'p2' })).toBeNull();
  });

  it('carries a note over only for the same difference on the same branch', () => {
    const previous = { branch: 'f', differences: [diff('a'), diff('b')], intended: [note('a'), note('b')] };
    expect(carriedOverIntended(previous, { branch: 'f', differences: [diff('a'), diff('b', 'b differs otherwise')] })).toEqual([note('a')]);
    expect(carriedOverIntended(previous, { branch: 'g', differences: [diff('a')] })).toEqual([]);
    expect(carriedOverIntended(null, { branch: 'f', differences: [diff('a')] })).toEqual([]);
  });

  it('marks the same difference found before the migration as pre-existing; it neither blocks nor counts as open', () => {
    const marked = markPreExisting([diff('a'), diff('b'), diff('c')], [diff('a'), diff('b', 'b differed otherwise before')]);
    expect(marked).toEqual([{ ...diff('a'), preExisting: true }, diff('b'), diff('c')]);
    expect(openDifferences({ differences: marked, intended: [note('c')] })).toEqual([diff('b')]);
    expect(appSchemaAgrees({ differences: marked, intended: [note('b'), note('c')] })).toBe(true);
    expect(appSchemaSummary({ branch: 'f', commit, differences: marked, intended: [] })).toMatch(/2 of 2 differences not explained; 1 already different before this migration \(not blocking\)$/);
    expect(appSchemaSummary({ branch: 'f', commit, differences: [{ ...diff('a'), preExisting: true }], intended: [] }))
      .toBe('schema.prisma on f @ aaaaaaaaaaaa agrees with what this migration changes; 1 already different before this migration (not blocking)');
  });

  it('parses what the service records and refuses what it never would', () => {
    const detail = { repository: '/srv/app.git', branch: 'f', commit, schemaPath: 'prisma/schema.prisma', differences: [diff('a')], intended: [] };
    expect(AppSchemaEvidenceSchema.safeParse(detail).success).toBe(true);
    expect(AppSchemaEvidenceSchema.safeParse({ ...detail, baseline: { branch: 'main', commit, snapshotHash: 'h' }, differences: [{ ...diff('a'), preExisting: true }] }).success).toBe(true);
    expect(AppSchemaEvidenceSchema.safeParse({ ...detail, baseline: { branch: 'main', commit: 'main', snapshotHash: 'h' } }).success).toBe(false);
    expect(AppSchemaEvidenceSchema.safeParse({ ...detail, commit: 'main' }).success).toBe(false);
    expect(AppSchemaEvidenceSchema.safeParse({ ...detail, differences: undefined }).success).toBe(false);
  });
});
