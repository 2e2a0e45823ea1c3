/** The path of `entry`'s bundle (`entry` relative to the repository root), built first when missing or stale. */
export function bundled(entry: string): Promise<string>;
