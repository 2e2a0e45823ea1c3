export * from './env.js';
export * from './recorder.js';
export * from './coordinates.js';
export { CLIENT_TEXT_MAX, OTHER_CLIENT, type Client, type UsageRow } from './aggregator.js';
export { openUsageReader, redactUrl, UsageStoreError } from './store.js';
export {
  busiestCoordinates,
  usageByClient,
  usageRecordedSince,
  type ClientCoordinateUsage,
  type CoordinateTotal,
} from './db/usage.repository.js';
