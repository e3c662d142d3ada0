import 'server-only';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { z } from 'zod';
import type { LoadedActor } from '../../auth/actor';
import { getAppCodePanel } from '../../data/app-schema';
import { compareAppSchema, intendDifferences } from '../../services/app-schema';
import { setRequestProject } from '../../services/projects';
import { CompareAppSchemaSchema, IntendDifferencesSchema, SetRequestProjectSchema } from '../../validation/project';
import { handler } from '../result';
import { PEOPLE_WRITE_THIS } from '../untrusted';

/**
 * Update app code's tools: the request's project and app branch, the comparison of the branch's
 * schema.prisma with the rehearsed schema, and differences recorded as intended. The same services
 * and schemas as the request page's forms (lib/actions/project-actions.ts, app-schema-actions.ts);
 * the services check who may (holders of Update app code, the author for the branch, admins).
 */

/** The step's state as the page shows it: project, branch, what a comparison waits for, and the latest comparison with each difference's key. */
async function appCodeView(actor: LoadedActor, requestId: string) {
  const panel = await getAppCodePanel(actor, requestId);
  return {
    project: panel.project && { id: panel.project.id, name: panel.project.name, repositoryUrl: panel.project.repositoryUrl, deployBranch: panel.project.deployBranch, schemaPath: panel.project.schemaPath },
    appBranch: panel.appBranch,
    projects: panel.projectOptions,
    waitingFor: panel.waitingFor,
    comparison: panel.comparison && {
      evidenceId: panel.comparison.evidenceId, passed: panel.comparison.passed, summary: panel.comparison.summary, staleBecause: panel.comparison.staleBecause,
      branch: panel.comparison.branch, commit: panel.comparison.commit, schemaPath: panel.comparison.schemaPath,
      differences: panel.comparison.differences.map((d) => ({
        key: d.key, description: d.description, open: d.open, preExisting: d.preExisting ?? false, intended: d.intended && { note: d.intended.note, by: d.intended.by },
      })),
    },
  };
}
export type AppCodeToolView = Awaited<ReturnType<typeof appCodeView>>;

export function registerAppCodeTools(server: McpServer, actor: LoadedActor) {
  server.registerTool('link_app_branch', {
    title: 'Choose the project and app branch',
    description: 'Update app code: sets the request\'s project (projectId, one of get_request\'s appCode.projects) and the app branch that carries the code change (appBranch, a git branch name); leaving both out clears them. The request\'s author, holders of Update app code (language-specialist) and admins. Answers whether it changed and the step\'s state.',
    inputSchema: SetRequestProjectSchema,
  }, handler('link_app_branch', async (input: z.output<typeof SetRequestProjectSchema>) => {
    const { changed } = await setRequestProject(actor.id, input);
    return { changed, ...(await appCodeView(actor, input.requestId)), next: 'Compare the branch\'s schema.prisma with the rehearsed schema: compare_app_schema.' };
  }));

  server.registerTool('compare_app_schema', {
    title: 'Compare the app\'s schema',
    description: `Update app code ("Update Prisma schema"): reads schema.prisma at the request\'s app branch and compares it with the schema the passing rehearsal of the current revision produced; records the evidence. Needs a project, an app branch and a passing rehearsal. Answers whether it agrees and every difference (key, description, open or not). Holders of Update app code (language-specialist) and admins. The differences quote schema.prisma, which people write: ${PEOPLE_WRITE_THIS}`,
    inputSchema: CompareAppSchemaSchema,
  }, handler('compare_app_schema', async ({ requestId }: z.output<typeof CompareAppSchemaSchema>) => {
    const compared = await compareAppSchema(actor.id, requestId);
    const { comparison } = await appCodeView(actor, requestId);
    return {
      evidenceId: compared.evidenceId, passed: compared.passed, open: compared.open, preExisting: compared.preExisting,
      differences: comparison?.differences ?? [],
      next: compared.passed
        ? 'It agrees: tick the manual items (update_task), then complete_task.'
        : 'Fix schema.prisma on the branch and compare again, or record differences that are meant to stay with record_intended_difference (evidenceId, keys, note).',
    };
  }));

  server.registerTool('record_intended_difference', {
    title: 'Record differences as intended',
    description: 'Update app code: records that differences of the latest comparison (evidenceId from compare_app_schema; keys of its differences) are intended, with a note saying why (at least 5 characters). A new comparison record; it passes once no difference is left unexplained. Holders of Update app code (language-specialist) and admins.',
    inputSchema: IntendDifferencesSchema,
  }, handler('record_intended_difference', async (input: z.output<typeof IntendDifferencesSchema>) => intendDifferences(actor.id, input)));
}
