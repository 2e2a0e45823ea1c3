/**
 * The process-wide stdout writer: lines are gathered briefly and written together, and none is lost or
 * reordered when the process exits at once. Each case runs a process of its own.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';

describe('stdout', () => {
  const logging = (lines: number, then: string) =>
    spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { createLogger } from ${JSON.stringify(new URL('./index.ts', import.meta.url).href)};
         const logger = createLogger('t', 'info', { format: 'json' });
         for (let i = 0; i < ${lines}; i++) logger.info({ i }, 'line');
         ${then}`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
  const numbers = (text: string) =>
    text
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { i: number }).i);

  it('gets every line, in order, from a process that exits at once', async () => {
    const child = logging(20_000, 'process.exit(3)');
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const [code] = (await once(child, 'close')) as [number];
    expect(code).toBe(3);
    expect(numbers(text)).toEqual(Array.from({ length: 20_000 }, (_, i) => i));
  });

  it('gets a line while the process goes on running, not only when it ends', async () => {
    const child = logging(1, 'setTimeout(() => {}, 30_000)');
    try {
      const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
      expect(numbers(chunk.toString())).toEqual([0]);
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill();
    }
  });
});
