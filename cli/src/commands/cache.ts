import { dropCachedAnswers } from '@stockgraph/ops';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { Output } from '../output.js';

export function registerCacheCommands(program: Command, output: () => Output): void {
  program
    .command('cache')
    .description("the gateways' response cache")
    .command('drop')
    .description(
      'drop every cached answer of every gateway (after changing tables by hand or restoring a backup); ' +
        'uses CACHE_REDIS_URL, else REDIS_URL, under REDIS_KEY_PREFIX',
    )
    .action(async () => {
      const outcome = await dropCachedAnswers();
      if (!outcome.dropped) throw new CliError(`cached answers not dropped: ${outcome.reason}`);
      output().result(outcome, () => "The gateways' cached answers were dropped.");
    });
}
