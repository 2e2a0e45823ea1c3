import { randomFillSync } from 'node:crypto';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const POOL = 64 * 1024;

/**
 * UUIDv7 strings for millions of rows: the same layout as packages/ids `newId` (48-bit millisecond
 * time, version 7, RFC variant), with the random bits taken from one large crypto buffer refilled in
 * bulk, because the uuid package's per-call path is too slow to keep up with COPY.
 */
export function uuid7Factory() {
  const pool = Buffer.alloc(POOL);
  let at = POOL;
  const byte = () => {
    if (at === POOL) {
      randomFillSync(pool);
      at = 0;
    }
    return pool[at++]!;
  };
  return (ms: number): string => {
    const t = ms.toString(16).padStart(12, '0');
    return (
      `${t.slice(0, 8)}-${t.slice(8)}-7${HEX[byte() & 0x0f]!.slice(1)}${HEX[byte()]}-` +
      `${HEX[(byte() & 0x3f) | 0x80]}${HEX[byte()]}-` +
      `${HEX[byte()]}${HEX[byte()]}${HEX[byte()]}${HEX[byte()]}${HEX[byte()]}${HEX[byte()]}`
    );
  };
}
