/**
 * Fails a test file that leaves a network connection, server or child process open after its
 * own `afterAll` hooks ran (registered here first, so it runs after them). Jest's own IPC pipes
 * are not TCP and are not counted.
 */
const LEAKY = new Set(['TCPSocketWrap', 'TCPServerWrap', 'TCPWrap', 'ProcessWrap', 'TLSWrap']);
// Closing sockets takes a few event-loop turns; give it a bounded moment.
const SETTLE_MS = 3000;

function openResources(): string[] {
  return process.getActiveResourcesInfo().filter((name) => LEAKY.has(name));
}

afterAll(async () => {
  const deadline = Date.now() + SETTLE_MS;
  while (openResources().length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const left = openResources();
  if (left.length > 0) {
    throw new Error(`test file left open: ${left.join(', ')} (close every connection it opens)`);
  }
});
