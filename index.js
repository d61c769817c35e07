// `require('agentq')` / `import … from 'agentq'`: the TypeScript sources through tsx, so the
// library works in a checkout right after `npm install`; a built `dist/` with AGENTQ_USE_DIST=1.
'use strict';
const path = require('node:path');
const fs = require('node:fs');

const built = path.join(__dirname, 'dist', 'index.js');
if (process.env.AGENTQ_USE_DIST === '1' && fs.existsSync(built)) {
  module.exports = require(built);
} else {
  require('tsx/cjs');
  module.exports = require(path.join(__dirname, 'src', 'index.ts'));
}
