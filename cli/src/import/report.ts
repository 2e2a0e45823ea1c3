import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImportOutcome } from './importer.js';
import type { Flag, QuarantineEntry } from './plan.js';
import type { Verification } from './verify.js';

export interface ImportReport {
  file: string;
  timeZone: string;
  resumed: boolean;
  ok: boolean;
  seconds: number;
  writeSeconds: number;
  rowsPerSecond: number;
  /** Seconds per phase of the import, then of the verification. */
  phases: Record<string, number>;
  legacyRows: Record<string, number>;
  written: Record<string, number>;
  quarantine: { notImported: number; fieldsKeptInNotes: number; byReason: Record<string, number> };
  verification: Verification;
}

const reasonKind = (q: QuarantineEntry) =>
  `${q.table}: ${q.reason.replace(/#\d+/g, '#N').replace(/".*"|-?\d+(\.\d+)?/g, '…')}`;

export function buildReport(outcome: ImportOutcome, verification: Verification): ImportReport {
  const q = outcome.planner.quarantine;
  const byReason: Record<string, number> = {};
  for (const entry of q) byReason[reasonKind(entry)] = (byReason[reasonKind(entry)] ?? 0) + 1;
  return {
    file: outcome.file,
    timeZone: outcome.timeZone,
    resumed: outcome.resumed,
    ok: verification.ok,
    seconds: outcome.seconds,
    writeSeconds: outcome.writeSeconds,
    rowsPerSecond: outcome.rowsPerSecond,
    phases: outcome.phases,
    legacyRows: outcome.legacyRows,
    written: outcome.written,
    quarantine: {
      notImported: q.filter((e) => e.action === 'not-imported').length,
      fieldsKeptInNotes: q.filter((e) => e.action === 'field-kept-in-notes').length,
      byReason,
    },
    verification,
  };
}

const MAX_MD_ROWS = 500;

function table(headers: string[], rows: (string | number | null)[][]): string {
  const esc = (v: string | number | null) =>
    String(v ?? '')
      .replace(/\|/g, '\\|')
      .replace(/\n/g, ' ');
  const shown = rows.slice(0, MAX_MD_ROWS);
  const more = rows.length > shown.length ? `\n\n…and ${rows.length - shown.length} more (all in the JSON file).` : '';
  return (
    [
      `| ${headers.join(' | ')} |`,
      `| ${headers.map(() => '---').join(' | ')} |`,
      ...shown.map((r) => `| ${r.map(esc).join(' | ')} |`),
    ].join('\n') + more
  );
}

/** verification.{json,md} and quarantine.{json,md}: the proof and the rows an operator must look at. */
export function writeReports(
  dir: string,
  report: ImportReport,
  quarantine: QuarantineEntry[],
  flags: Flag[],
): string[] {
  mkdirSync(dir, { recursive: true });
  const files = ['verification.json', 'verification.md', 'quarantine.json', 'quarantine.md'].map((f) => join(dir, f));
  writeFileSync(files[0]!, `${JSON.stringify(report, null, 2)}\n`);
  const v = report.verification;
  writeFileSync(
    files[1]!,
    [
      `# Legacy import verification: ${v.ok ? 'PASSED' : 'FAILED'}`,
      '',
      `File \`${report.file}\`, shop time zone ${report.timeZone}${report.resumed ? ' (resumed run)' : ''}; ` +
        `${Object.values(report.legacyRows).reduce((a, b) => a + b, 0)} legacy rows in ${report.seconds.toFixed(1)} s ` +
        `(${report.rowsPerSecond} rows/s). ${report.quarantine.notImported} row(s) quarantined, ` +
        `${report.quarantine.fieldsKeptInNotes} field(s) kept in notes.`,
      '',
      table(
        ['check', 'legacy', 'stockgraph', 'agrees'],
        v.checks.map((c) => [c.name, c.legacy, c.stockgraph, c.ok ? 'yes' : '**NO**']),
      ),
      '',
      ...v.checks
        .filter((c) => !c.ok)
        .flatMap((c) => [
          `## Differences: ${c.name}`,
          '',
          table(
            ['table', 'legacy id', 'legacy', 'stockgraph'],
            c.differences.map((d) => [d.table, d.id, d.legacy, d.stockgraph]),
          ),
          '',
        ]),
    ].join('\n'),
  );
  writeFileSync(files[2]!, `${JSON.stringify({ quarantine, flags }, null, 2)}\n`);
  writeFileSync(
    files[3]!,
    [
      '# Legacy import quarantine',
      '',
      'Rows not imported (`not-imported`) or imported with one field kept in the notes (`field-kept-in-notes`), each with its reason.',
      '',
      '## By reason',
      '',
      table(
        ['reason', 'rows'],
        Object.entries(report.quarantine.byReason).sort((a, b) => b[1] - a[1]),
      ),
      '',
      '## Rows',
      '',
      table(
        ['table', 'legacy id', 'action', 'reason'],
        quarantine.map((q) => [q.table, q.id, q.action, q.reason]),
      ),
      '',
      '## Imported with a note',
      '',
      table(
        ['table', 'legacy id', 'note'],
        flags.map((f) => [f.table, f.id, f.note]),
      ),
      '',
    ].join('\n'),
  );
  return files;
}
