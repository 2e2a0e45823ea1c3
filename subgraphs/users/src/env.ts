import { parseSubgraphEnv, z } from '@stockgraph/config';

export const DEFAULT_PORT = 4001;

const usersShape = {
  /** ES256 private key (PKCS#8 PEM) that signs access tokens; required in production. */
  JWT_PRIVATE_KEY: z
    .string()
    .transform((pem) => pem.replace(/\\n/g, '\n'))
    .refine(
      (pem) => pem.includes('-----BEGIN PRIVATE KEY-----'),
      'must be a PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----")',
    )
    .optional(),
  JWT_KEY_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ - only')
    .optional(),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(3600).default(900),
  REFRESH_TOKEN_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(300)
    .max(90 * 86_400)
    .default(30 * 86_400),
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(100).default(5),
  LOGIN_LOCK_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
};

export function parseUsersEnv(source: NodeJS.ProcessEnv = process.env) {
  return parseSubgraphEnv('users', DEFAULT_PORT, source, usersShape, (env) =>
    env.NODE_ENV === 'production' && !env.JWT_PRIVATE_KEY
      ? ['JWT_PRIVATE_KEY: required in production (development generates a throwaway key at every start)']
      : [],
  );
}

export type UsersEnv = ReturnType<typeof parseUsersEnv>;
