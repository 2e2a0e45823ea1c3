import { describe, expect, it } from 'vitest';
import { reasonIn } from '../cli/src/backup/tools.js';

describe('why a PostgreSQL client tool failed', () => {
  it('is its first error line, not the NOTICE that came before it (issue 28, finding 9)', () => {
    const stderr = [
      'psql:<stdin>:12: NOTICE:  schema "users" does not exist, skipping',
      'psql:<stdin>:40: ERROR:  duplicate key value violates unique constraint "users_pkey"',
      'DETAIL:  Key (id)=(1) already exists.',
    ].join('\n');
    expect(reasonIn(stderr, 3)).toMatch(/ERROR: {2}duplicate key value/);
    expect(reasonIn('pg_restore: error: could not read input file: end of file\n', 1)).toMatch(/could not read/);
  });

  it('is the last line when no line says ERROR, and the exit code when there is nothing', () => {
    expect(reasonIn('starting\nconnection lost\n', 2)).toBe('connection lost');
    expect(reasonIn('', 2)).toBe('exit code 2');
  });
});
