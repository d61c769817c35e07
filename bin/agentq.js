#!/usr/bin/env node
// The `agentq` command. Runs the TypeScript sources through tsx so that `npx agentq` works in a
// checkout right after `npm install`, with no build step; a built `dist/` is used when present
// and newer (AGENTQ_USE_DIST=1 forces it).
'use strict';
const path = require('node:path');
const fs = require('node:fs');

const root = path.join(__dirname, '..');
const built = path.join(root, 'dist', 'cli', 'main.js');
if (process.env.AGENTQ_USE_DIST === '1' && fs.existsSync(built)) {
  require(built);
} else {
  require('tsx/cjs');
  require(path.join(root, 'src', 'cli', 'main.ts'));
}
