import { readFileSync } from 'node:fs';
import { ChangeType } from '@graphql-inspector/core';
import { z } from '@stockgraph/config';

export const ACKNOWLEDGEMENTS_FILE = 'schema/breaking-changes.json';

const changeTypes = Object.values(ChangeType) as [string, ...string[]];

const acknowledgement = z
  .object({
    path: z.string().min(1).describe('inspector path of the change, e.g. Product.unitsSold'),
    change: z.enum(changeTypes).optional(),
    schema: z.string().min(1).optional(),
    reason: z.string().trim().min(15, 'say why this break is acceptable (who was asked, which clients are gone)'),
  })
  .strict();

const file = z.object({ $comment: z.string().optional(), acknowledged: z.array(acknowledgement) }).strict();

export type Acknowledgement = z.infer<typeof acknowledgement>;

/** Raised for an acknowledgement file that does not say clearly what was accepted and why. */
export class AcknowledgementError extends Error {}

/** The reviewed breaking changes; a missing file acknowledges nothing. */
export function readAcknowledgements(path: string): Acknowledgement[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new AcknowledgementError(`${ACKNOWLEDGEMENTS_FILE} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = file.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new AcknowledgementError(`${ACKNOWLEDGEMENTS_FILE} is invalid:\n${problems.join('\n')}`);
  }
  return parsed.data.acknowledged;
}

/** An entry matches a breaking change at its path, narrowed by change type and schema when it names them. */
export function matches(entry: Acknowledgement, change: { schema: string; type: string; path?: string }): boolean {
  return (
    entry.path === change.path &&
    (!entry.change || entry.change === change.type) &&
    (!entry.schema || entry.schema === change.schema)
  );
}
