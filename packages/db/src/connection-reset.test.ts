import { createServer, type Server, type Socket } from 'node:net';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * A server that lets the connection in and resets it the moment the first query arrives: postgres.js's
 * look-up of array types, which it sends on every new connection before anything of ours. That is what
 * a PostgreSQL restarting under load looked like in CI (tests/database-restart.test.ts): the look-up
 * failed with ECONNRESET and, as postgres.js 3.4.9 never awaits it, the rejection went unhandled — a
 * process running with Node's default `--unhandled-rejections=throw` would exit.
 * patches/postgres@3.4.9.patch leaves the failure to the connection, which fails the waiting query.
 */
let server: Server;
let port: number;
const sockets = new Set<Socket>();

/** AuthenticationOk then ReadyForQuery(idle): the shortest welcome the client accepts. */
const WELCOME = Buffer.from([
  ...[0x52, 0, 0, 0, 8, 0, 0, 0, 0], // 'R', length 8, auth ok
  ...[0x5a, 0, 0, 0, 5, 0x49], // 'Z', length 5, idle
]);

beforeAll(async () => {
  server = createServer((socket) => {
    sockets.add(socket);
    let welcomed = false;
    socket.on('error', () => {});
    socket.on('data', () => {
      // The first packet is the startup message; whatever comes after it is the type look-up.
      if (!welcomed) {
        welcomed = true;
        socket.write(WELCOME);
      } else socket.resetAndDestroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

describe('a connection reset while postgres.js looks up array types', () => {
  it('fails the waiting query and leaves no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    const sql = postgres(`postgres://stockgraph@127.0.0.1:${port}/stockgraph`, {
      max: 1,
      connect_timeout: 2,
      onnotice: () => {},
    });
    try {
      const outcome = await sql`select 1`.then(
        () => 'answered',
        (error: { code?: string }) => error.code,
      );
      expect(outcome).toBe('ECONNRESET');
      // Unhandled rejections are reported after the microtask queue drains.
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', record);
      await sql.end({ timeout: 0 });
    }
  });
});
