import type DataLoader from 'dataloader';

/**
 * One DataLoader per distinct argument set (a page request, a date range): parents that ask a field
 * with the same arguments batch into one statement, and different arguments never share a batch.
 */
export function loaderPerArguments<A, K, V>(create: (args: A) => DataLoader<K, V>): (args: A) => DataLoader<K, V> {
  const loaders = new Map<string, DataLoader<K, V>>();
  return (args: A) => {
    const key = JSON.stringify(args);
    let loader = loaders.get(key);
    if (!loader) {
      loader = create(args);
      loaders.set(key, loader);
    }
    return loader;
  };
}
