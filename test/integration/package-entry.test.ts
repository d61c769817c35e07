/**
 * `require('agentq')` in a checkout resolves to the public API (package.json `exports` → index.js
 * → src/index.ts through tsx): what the seed's usage example imports.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

describe("the package's own name", () => {
  it('resolves to the public API with the seed names', () => {
    const names = execFileSync(
      process.execPath,
      ['-e', "process.stdout.write(JSON.stringify(Object.keys(require('agentq'))))"],
      { cwd: join(__dirname, '..', '..'), encoding: 'utf8' },
    );
    expect(JSON.parse(names)).toEqual(
      expect.arrayContaining([
        'TaskRegistry',
        'RedisCoordinator',
        'SupervisorAgent',
        'InterfaceAgent',
        'AutonomousAgent',
        'UnrecoverableError',
        'createAgentSystem',
      ]),
    );
  });
});
