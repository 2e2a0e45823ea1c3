/**
 * Redis answers NOGROUP when the stream or its consumer group is gone: Redis restarted without its
 * data, a failover to a replica that never had it, or someone deleted the key. The group must then be
 * created again (MKSTREAM) instead of retrying the read forever; what was lost with it comes back
 * through the saga's own retry (orders announce a still-pending order again).
 */
export function isMissingGroup(error: unknown): boolean {
  return error instanceof Error && /\bNOGROUP\b/.test(error.message);
}
