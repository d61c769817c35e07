/** Keeps the last `limit` bytes of a stream (a command's stdout or stderr) and drops the rest. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.chunks.length > 1 && this.size - this.chunks[0]!.length >= this.limit) {
      this.size -= this.chunks.shift()!.length;
    }
  }

  /** The last `bytes` bytes (at most `limit`) as UTF-8, starting at a character boundary. */
  text(bytes = this.limit): string {
    const all = Buffer.concat(this.chunks);
    let start = Math.max(0, all.length - Math.min(bytes, this.limit));
    // Skip UTF-8 continuation bytes (10xxxxxx) so the tail does not start mid-character.
    while (start < all.length && ((all[start] ?? 0) & 0xc0) === 0x80) start += 1;
    return all.subarray(start).toString('utf8');
  }
}
