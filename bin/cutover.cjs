#!/usr/bin/env node
// `npx cutover ...`: the migration engine on the command line (lib/cli/main.ts, run through tsx).
const { register } = require('tsx/cjs/api');
register();
const { main } = require('../lib/cli/main.ts');
main(process.argv.slice(2)).then((code) => process.exit(code));
