import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

/** The header that carries SUBGRAPH_SHARED_SECRET from the gateway to every subgraph. */
export const SUBGRAPH_SECRET_HEADER = 'x-subgraph-secret';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Lets through only requests that carry the gateway's shared secret: a caller inside the cluster that
 * reaches a subgraph port directly gets nothing, not `_service`, not `_entities`, not introspection,
 * not field suggestions. Both sides are hashed first so the comparison takes the same time whatever
 * the length or the first differing byte.
 */
export function gatewayOnly(secret: string): RequestHandler {
  const expected = digest(secret);
  return (req, res, next) => {
    const given = req.headers[SUBGRAPH_SECRET_HEADER];
    if (typeof given === 'string' && timingSafeEqual(digest(given), expected)) return next();
    res.status(403).json({
      errors: [
        {
          message: 'This service answers only the gateway',
          extensions: {
            code: 'FORBIDDEN',
            reason: given ? 'SUBGRAPH_SECRET_INVALID' : 'SUBGRAPH_SECRET_MISSING',
            requestId: randomUUID(),
          },
        },
      ],
    });
  };
}
