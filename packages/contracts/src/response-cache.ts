/**
 * How anything tells the gateways' response cache that answers went stale (gateway/src/response-cache):
 * under a deployment's REDIS_KEY_PREFIX in the cache Redis, a tag's invalidation time (ms since the
 * epoch) at `<prefix>rc:i:<tag>`, and the tags on the `<prefix>rc:invalidations` channel as
 * `{ "from": <sender>, "tags": [...] }` for the replicas' in-process layers. The tag `*` is every answer.
 */
export const EVERY_ANSWER = '*';

export function responseCacheKeys(prefix: string) {
  const base = `${prefix}rc:`;
  return {
    entry: (key: string) => `${base}e:${key}`,
    invalidatedAt: (tag: string) => `${base}i:${tag}`,
    channel: `${base}invalidations`,
  };
}

export interface InvalidationMessage {
  from: string;
  tags: string[];
}
