import type { CliCommand } from '../command';
import analyze from './analyze';
import apply from './apply';
import backup from './backup';
import checksum from './checksum';
import diff from './diff';
import down from './down';
import drill from './drill';
import drift from './drift';
import mcp from './mcp';
import rehearse from './rehearse';
import snapshot from './snapshot';
import status from './status';

/**
 * Every `cutover` command, in the order --help lists them. A new command is a file here
 * (lib/cli/commands/<name>.ts, default-exporting defineCommand({...})) and one line below.
 */
export const COMMANDS: readonly CliCommand[] = [
  status,
  apply,
  down,
  rehearse,
  snapshot,
  diff,
  backup,
  checksum,
  drill,
  drift,
  analyze,
  mcp,
];
