import { ACKNOWLEDGEMENTS_FILE } from './acknowledgements.js';
import { type CompositionProblem, formatLocation } from './composition.js';
import type { OperationRef, SchemaChange, SchemaCheckReport } from './schema-check.js';

/** Safe changes are listed up to this many per schema on the terminal; the JSON report has them all. */
const SAFE_SHOWN = 12;

const MARK = { breaking: '✖', dangerous: '⚠', safe: '✔' } as const;

function refs(operations: OperationRef[]): string {
  return operations.map((o) => `${o.name} (${o.file})`).join(', ');
}

function days(n: number): string {
  return `${n} day${n === 1 ? '' : 's'}`;
}

/** Breaking changes (at these paths) that no client used within the --usage window: they need no acknowledgement. */
function unusedPaths(report: SchemaCheckReport): Set<string | undefined> {
  return new Set(report.changes.filter((c) => c.usage?.length === 0).map((c) => c.path));
}

/** What real traffic said about a breaking change, when schema:check ran with --usage. */
function terminalUsage(change: SchemaChange, indent: string, usageDays: number | undefined): string[] {
  if (!change.usage || usageDays === undefined) return [];
  if (change.usage.length === 0)
    return [`${indent}    note: no client used it in the last ${days(usageDays)}, so it needs no acknowledgement`];
  return [
    `${indent}    used in the last ${days(usageDays)} by:`,
    ...change.usage.map(
      (u) =>
        `${indent}      ${u.client} ${u.version || '(no version)'}: ${u.count} operation${u.count === 1 ? '' : 's'}, last seen ${u.lastSeen}${u.coordinates.length > 1 || u.coordinates[0] !== change.path ? ` (${u.coordinates.join(', ')})` : ''}`,
    ),
  ];
}

function terminalChange(change: SchemaChange, indent: string, usageDays?: number): string[] {
  const head = `${indent}${MARK[change.level]} ${change.level.toUpperCase().padEnd(9)} ${change.path ?? '(schema)'}  ${change.type}`;
  const lines = [head, `${indent}    ${change.message}`];
  if (change.level === 'safe') return [`${indent}${MARK.safe} SAFE      ${change.message}`];
  if (change.operations.length > 0)
    lines.push(
      `${indent}    ${change.level === 'breaking' ? 'breaks' : 'affects'} operations: ${refs(change.operations)}`,
    );
  else lines.push(`${indent}    no operation in schema/operations uses it`);
  if (change.acknowledged) lines.push(`${indent}    acknowledged: ${change.acknowledged}`);
  lines.push(...terminalUsage(change, indent, usageDays));
  return lines;
}

/** Changes of one kind in one schema, e.g. `@requiresScopes` added to 46 fields: one entry on the terminal. */
function groupKey(change: SchemaChange): string {
  return `${change.level}|${change.type}|${/@\w+/.exec(change.path ?? '')?.[0] ?? ''}`;
}

function terminalGroup(group: SchemaChange[], indent: string): string[] {
  const [first] = group as [SchemaChange, ...SchemaChange[]];
  const paths = group.map((c) => c.path?.replace(/\.?@.*$/, '') || '(schema)');
  const shown = paths.length > 8 ? `${paths.slice(0, 8).join(', ')}, … (${paths.length - 8} more)` : paths.join(', ');
  const operations = [...new Map(group.flatMap((c) => c.operations).map((o) => [o.name, o])).values()];
  const directive = /@\w+/.exec(first.path ?? '')?.[0];
  return [
    `${indent}${MARK[first.level]} ${first.level.toUpperCase().padEnd(9)} ${first.type}${directive ? ` ${directive}` : ''} ×${group.length}`,
    `${indent}    ${shown}`,
    ...(first.level === 'safe'
      ? []
      : [
          `${indent}    ${operations.length ? `affects operations: ${operations.map((o) => o.name).join(', ')}` : 'no operation in schema/operations uses them'}`,
        ]),
  ];
}

/**
 * Breaking changes one by one (each needs its own decision); dangerous and safe ones grouped by kind
 * when there are many, so a rollout such as authorization on every field stays readable.
 */
function terminalChanges(changes: SchemaChange[], indent: string, usageDays?: number): string[] {
  const order = { breaking: 0, dangerous: 1, safe: 2 };
  const sorted = [...changes].sort((a, b) => order[a.level] - order[b.level]);
  const lines = sorted.filter((c) => c.level === 'breaking').flatMap((c) => terminalChange(c, indent, usageDays));
  const groups = new Map<string, SchemaChange[]>();
  for (const change of sorted.filter((c) => c.level !== 'breaking'))
    groups.set(groupKey(change), [...(groups.get(groupKey(change)) ?? []), change]);
  let safeShown = 0;
  let safeHidden = 0;
  for (const group of groups.values()) {
    const safe = group[0]!.level === 'safe';
    if (safe && safeShown >= SAFE_SHOWN) {
      safeHidden += group.length;
      continue;
    }
    if (safe) safeShown += group.length > 3 ? 1 : group.length;
    lines.push(...(group.length > 3 ? terminalGroup(group, indent) : group.flatMap((c) => terminalChange(c, indent))));
  }
  if (safeHidden > 0) lines.push(`${indent}… and ${safeHidden} more safe changes (--json lists every one)`);
  return lines;
}

function counts(changes: SchemaChange[]): string {
  const n = (level: SchemaChange['level']) => changes.filter((c) => c.level === level).length;
  return `${n('breaking')} breaking, ${n('dangerous')} dangerous, ${n('safe')} safe`;
}

function problems(list: CompositionProblem[], mark: string): string[] {
  return list.flatMap((p) => [
    `  ${mark} ${p.code}: ${p.message}`,
    ...p.locations.map((l) => `      at ${formatLocation(l)}`),
  ]);
}

/** The report for a person at a terminal or reading a CI log. */
export function formatTerminal(report: SchemaCheckReport): string {
  const out: string[] = [`Schema check against ${report.base.ref} (${report.base.commit.slice(0, 10)})`, ''];

  const { composition } = report;
  if (composition.ok)
    out.push(`Composition: ok, ${composition.hints.length} hint${composition.hints.length === 1 ? '' : 's'}`);
  else out.push(`Composition failed (${composition.errors.length}):`, ...problems(composition.errors, '✖'));
  out.push(...problems(composition.hints, '⚠'));
  if (composition.ok && report.supergraphFile === 'stale')
    out.push('  note: schema/supergraph.graphql differs from this composition: run `pnpm compose` and commit it');
  out.push('');

  if (report.usage) {
    const { database, recordedSince } = report.usage;
    out.push(`Client usage: the last ${days(report.usage.days)} in ${database}, kept since ${recordedSince}`);
    const windowStart = Date.now() - report.usage.days * 86_400_000;
    if (Date.parse(recordedSince) > windowStart + 3_600_000)
      out.push('  note: the store holds less than that window, so "unused" rests on less traffic than it says');
    out.push('');
  }

  const supergraph = report.changes.filter((c) => c.schema === 'supergraph');
  if (composition.ok) {
    out.push(`Supergraph API changes: ${supergraph.length ? counts(supergraph) : 'none'}`);
    out.push(...terminalChanges(supergraph, '  ', report.usage?.days), '');
  }

  out.push('Subgraph changes:');
  for (const subgraph of report.subgraphs) {
    const changes = report.changes.filter((c) => c.schema === subgraph.name);
    if (subgraph.status !== 'changed') {
      out.push(`  ${subgraph.name}: ${subgraph.status}`);
      continue;
    }
    out.push(`  ${subgraph.name} (${subgraph.path}): ${changes.length ? counts(changes) : 'federation metadata only'}`);
    out.push(...terminalChanges(changes, '    '));
  }
  out.push('');

  const invalid = report.operations.filter((o) => o.errors.length > 0);
  if (!composition.ok) out.push('Client operations: not validated (no supergraph to validate against)');
  else
    out.push(
      `Client operations against the new supergraph: ${report.operations.length - invalid.length} of ${report.operations.length} valid`,
    );
  for (const operation of invalid) {
    out.push(`  ✖ ${operation.name} (${operation.file})`);
    for (const error of operation.errors)
      out.push(`      ${error.message}${error.location ? `  at ${error.location}` : ''}`);
  }
  for (const problem of report.operationFileProblems)
    out.push(`  ✖ ${problem.location ?? problem.file}: ${problem.message}`);
  for (const entry of report.unusedAcknowledgements) {
    out.push(
      `  note: ${ACKNOWLEDGEMENTS_FILE} acknowledges ${entry.change ?? 'a breaking change'} at ${entry.path}, which this change does not make: remove the entry once released`,
    );
  }
  out.push('');

  if (report.ok) {
    const accepted = report.changes.filter((c) => c.level === 'breaking');
    out.push(
      accepted.length
        ? `✔ schema:check passed (${accepted.length} breaking change${accepted.length === 1 ? '' : 's'} accepted${report.allowBreaking ? ' with --allow-breaking' : ''})`
        : '✔ schema:check passed',
    );
  } else {
    out.push('✖ schema:check failed:', ...report.failures.map((f) => `  - ${f}`));
    const unused = unusedPaths(report);
    if (
      report.changes.some((c) => c.level === 'breaking' && !c.acknowledged && !unused.has(c.path)) &&
      !report.allowBreaking
    ) {
      out.push(
        `  To accept a breaking change, add it with a reason to ${ACKNOWLEDGEMENTS_FILE} (see docs/clients/schema-workflow.md, "Schema changes").`,
      );
    }
  }
  return `${out.join('\n')}\n`;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The report as a pull-request comment. */
export function formatMarkdown(report: SchemaCheckReport): string {
  const out: string[] = [
    `### ${report.ok ? '✅ Schema check passed' : '❌ Schema check failed'}`,
    '',
    `Compared with \`${report.base.ref}\` (${report.base.commit.slice(0, 10)}).`,
    '',
  ];
  if (!report.ok) out.push(...report.failures.map((f) => `- ${f}`), '');

  if (!report.composition.ok) {
    out.push('#### Composition errors', '', '| Code | Message | Where |', '| --- | --- | --- |');
    for (const p of report.composition.errors)
      out.push(
        `| \`${p.code}\` | ${cell(p.message)} | ${p.locations.map((l) => `\`${formatLocation(l)}\``).join('<br>')} |`,
      );
    out.push('');
  }
  if (report.composition.hints.length) {
    out.push('<details><summary>Composition hints</summary>', '');
    for (const p of report.composition.hints)
      out.push(`- \`${p.code}\` ${cell(p.message)} ${p.locations.map((l) => `\`${formatLocation(l)}\``).join(', ')}`);
    out.push('', '</details>', '');
  }

  const notable = report.changes.filter((c) => c.level !== 'safe');
  const usage = report.usage;
  if (notable.length) {
    out.push(
      '#### Breaking and dangerous changes',
      '',
      `| | Schema | Change | Operations affected | Acknowledged |${usage ? ` Clients in the last ${days(usage.days)} |` : ''}`,
      `| --- | --- | --- | --- | --- |${usage ? ' --- |' : ''}`,
    );
    const unused = unusedPaths(report);
    for (const c of notable) {
      const accepted = !c.usage?.length && (c.acknowledged || unused.has(c.path));
      const icon = c.level === 'breaking' ? (accepted ? '☑️' : '❌') : '⚠️';
      const ops = c.operations.map((o) => `\`${o.name}\``).join(', ') || '—';
      const clients = !c.usage
        ? '—'
        : c.usage.length === 0
          ? 'none'
          : c.usage.map((u) => `${cell(`${u.client} ${u.version}`)}: ${u.count}, last seen ${u.lastSeen}`).join('<br>');
      out.push(
        `| ${icon} ${c.level} | ${c.schema} | \`${c.path ?? ''}\` ${cell(c.message)} | ${ops} | ${cell(c.acknowledged ?? (c.level === 'breaking' && report.allowBreaking ? '--allow-breaking' : ''))} |${usage ? ` ${clients} |` : ''}`,
      );
    }
    out.push('');
  }
  const safe = report.changes.filter((c) => c.level === 'safe');
  if (safe.length) {
    out.push(`<details><summary>${safe.length} safe change${safe.length === 1 ? '' : 's'}</summary>`, '');
    for (const c of safe) out.push(`- ${c.schema}: ${cell(c.message)}`);
    out.push('', '</details>', '');
  }

  const invalid = report.operations.filter((o) => o.errors.length > 0);
  if (invalid.length || report.operationFileProblems.length) {
    out.push('#### Client operations that no longer validate', '');
    for (const o of invalid)
      out.push(`- \`${o.name}\` (${o.file}): ${o.errors.map((e) => cell(e.message)).join('; ')}`);
    for (const p of report.operationFileProblems) out.push(`- ${p.location ?? p.file}: ${cell(p.message)}`);
    out.push('');
  } else if (report.composition.ok) {
    out.push(
      `All ${report.operations.length} client operations in \`schema/operations\` validate against the new supergraph.`,
      '',
    );
  }
  return `${out.join('\n')}\n`;
}
