/**
 * Money as exact decimals: prices arrive as strings ("12.5", "3.99") and are summed in integer cents,
 * so a total never picks up binary floating-point error. Prices carry at most two decimals.
 */
export function centsOf(decimal: string): bigint {
  const negative = decimal.startsWith('-');
  const [whole, fraction = ''] = (negative ? decimal.slice(1) : decimal).split('.');
  const cents = BigInt(whole || '0') * 100n + BigInt(fraction.padEnd(2, '0').slice(0, 2));
  return negative ? -cents : cents;
}

export function decimalOf(cents: bigint): string {
  const sign = cents < 0n ? '-' : '';
  const abs = cents < 0n ? -cents : cents;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}

/** The line total of `quantity` units at `unitPrice`. */
export function lineTotal(unitPrice: string, quantity: number): string {
  return decimalOf(centsOf(unitPrice) * BigInt(quantity));
}

/** The sum of decimal amounts. */
export function sum(amounts: string[]): string {
  return decimalOf(amounts.reduce((total, a) => total + centsOf(a), 0n));
}
