import type { Command } from 'commander';
import type { Output } from '../output.js';

export function registerStockCommands(program: Command, output: () => Output): void {
  const stock = program.command('stock').description("inventory's stock columns and their ledger");
  stock
    .command('check')
    .description('prove the stock columns equal the sums of the ledger (same as `pnpm stock:check`)')
    .option('--rebuild', 'rewrite the stock columns from the ledger first', false)
    .action(async (options: { rebuild: boolean }) => {
      const { checkStock } = await import('@stockgraph/inventory/stock-check');
      const result = await checkStock({ rebuild: options.rebuild });
      output().result(result, (r) => {
        const lines = options.rebuild ? [`Rebuilt the stock of ${r.rebuilt} product(s) from the ledger.`] : [];
        if (r.mismatches.length === 0) lines.push('Stock agrees with the ledger for every product.');
        else {
          lines.push(`Stock disagrees with the ledger for ${r.mismatches.length} product(s):`);
          for (const m of r.mismatches) {
            lines.push(
              `  ${m.sku} (${m.productId}): on hand ${m.onHand} vs ledger ${m.ledgerOnHand}, reserved ${m.reserved} vs ledger ${m.ledgerReserved}`,
            );
          }
        }
        return lines.join('\n');
      });
      if (result.mismatches.length > 0) process.exitCode = 1;
    });
}
