import 'server-only';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { LoadedActor } from '../auth/actor';
import { registerPrompts } from './prompts';
import { PROCEDURE_URI, registerResources } from './resources';
import { fitForStatelessUse } from './stateless';
import { registerAppCodeTools } from './tools/app-code';
import { registerTaskTools } from './tools/tasks';
import { registerWorkTools } from './tools/work';
import { PEOPLE_WRITE_THIS } from './untrusted';

export const MCP_SERVER_NAME = 'cutover';
/**
 * One JSON Schema validator for every server: the SDK builds a new Ajv (its meta-schemas and
 * vocabularies, about 1 ms) per server otherwise, that is per HTTP request. It keeps no per-caller state.
 */
const SHARED_VALIDATOR = new AjvJsonSchemaValidator();
const VERSION = '0.1.0';

/**
 * Cutover's MCP server for one caller (an agent account's token, a CI token or a person): the
 * task tools, the work tools, the procedure and requests as resources, and the work-next-task
 * prompt. One server per HTTP request (stateless): who is asking was authenticated for this very
 * request, and every tool goes through the services that check it again.
 */
export function createCutoverMcpServer(actor: LoadedActor): McpServer {
  const server = new McpServer(
    { name: MCP_SERVER_NAME, version: VERSION },
    {
      capabilities: { tools: {}, resources: {}, prompts: {} },
      jsonSchemaValidator: SHARED_VALIDATOR,
      instructions: `Cutover tracks database migrations through a nine-step procedure. You act as ${actor.name} (${actor.kind}). Start with the work-next-task prompt or list_my_ready_tasks; read ${PROCEDURE_URI} for the steps and what Cutover checks of each. ${PEOPLE_WRITE_THIS}`,
    },
  );
  registerTaskTools(server, actor);
  registerWorkTools(server, actor);
  registerAppCodeTools(server, actor);
  registerResources(server, actor);
  registerPrompts(server, actor);
  fitForStatelessUse(server);
  return server;
}
