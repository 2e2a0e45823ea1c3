import type { RemoteGraphQLDataSource } from '@apollo/gateway';

type Fetcher = NonNullable<NonNullable<ConstructorParameters<typeof RemoteGraphQLDataSource>[0]>['fetcher']>;
/** @apollo/utils.fetcher's FetcherHeaders, reached through the data source (not a dependency of ours). */
type FetcherHeaders = Awaited<ReturnType<Fetcher>>['headers'];

/**
 * Headers as a map of lower-cased names: what the subgraph data source and fetcher need of WHATWG
 * `Headers` (get, set, iterate) without its validation and normalisation of every name and value
 * on every call. What goes out is still checked: Node's HTTP client refuses a header it cannot send.
 */
export class HeaderMap implements FetcherHeaders {
  readonly #map = new Map<string, string>();

  constructor(entries?: Iterable<readonly [string, string]>) {
    if (entries) for (const [name, value] of entries) this.append(name, value);
  }

  append(name: string, value: string): void {
    const key = name.toLowerCase();
    const prior = this.#map.get(key);
    this.#map.set(key, prior === undefined ? value : `${prior}, ${value}`);
  }

  delete(name: string): void {
    this.#map.delete(name.toLowerCase());
  }

  get(name: string): string | null {
    return this.#map.get(name.toLowerCase()) ?? null;
  }

  has(name: string): boolean {
    return this.#map.has(name.toLowerCase());
  }

  set(name: string, value: string): void {
    this.#map.set(name.toLowerCase(), value);
  }

  entries(): MapIterator<[string, string]> {
    return this.#map.entries();
  }

  keys(): MapIterator<string> {
    return this.#map.keys();
  }

  values(): MapIterator<string> {
    return this.#map.values();
  }

  [Symbol.iterator](): MapIterator<[string, string]> {
    return this.#map.entries();
  }
}
