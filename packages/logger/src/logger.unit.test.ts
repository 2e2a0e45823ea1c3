import { describe, expect, it } from 'vitest';
import { createLogger, requestLogContext } from './index.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) };
  return { lines, logger: createLogger('orders', 'info', { format: 'json', destination }) };
}

describe('log lines', () => {
  it('never carry credentials or personal contact data, wherever a log call puts them', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        password: 'hunter2hunter2',
        token: 'eyJhbGciOi.secret',
        user: { email: 'ada@example.com', phone: '+44 20 7946 0000', refreshToken: 'r-secret' },
        variables: { input: { password: 'p-secret', address: '1 Main St' }, email: 'v@example.com' },
        req: { headers: { authorization: 'Bearer abc.def', cookie: 'sid=1', 'x-subgraph-secret': 's'.repeat(32) } },
        customer: { address: { street: '1 Main St' } },
      },
      'sign-in',
    );
    const text = JSON.stringify(lines);
    for (const secret of [
      'hunter2',
      'eyJhbGciOi',
      'ada@example.com',
      '7946',
      'r-secret',
      'p-secret',
      'Main St',
      'v@example.com',
      'abc.def',
      'sid=1',
      'sssss',
    ])
      expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({ password: '[redacted]', user: { email: '[redacted]' } });
  });

  it('name the service once and the request they belong to', () => {
    const { lines, logger } = capture();
    requestLogContext.run({ requestId: 'req-1', userId: 'user-1' }, () => logger.info('inside'));
    logger.info('outside');
    expect(lines[0]).toMatchObject({ service: 'orders', requestId: 'req-1', userId: 'user-1', msg: 'inside' });
    expect(lines[0]).not.toHaveProperty('name');
    expect(lines[1]).not.toHaveProperty('requestId');
  });
});
