// Progress lines of the image build, on stderr (stdout carries the summary).
export function say(message: string): void {
  const time = new Date().toISOString().slice(11, 19);
  process.stderr.write(`[image ${time}] ${message}\n`);
}

/** Seconds since `t0` (from performance.now()), one decimal. */
export function secondsSince(t0: number): number {
  return Math.round((performance.now() - t0) / 100) / 10;
}
