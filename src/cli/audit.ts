/**
 * `scope-energie audit verify` walks the hash chain of the audit log, optionally against a signed
 * checkpoint or an earlier export; `audit export` prints entries as CSV (UTF-8 with BOM, `;`) or
 * JSON with the head and a signed checkpoint; `audit checkpoint` signs the head and writes it to
 * the configured sinks. See docs/audit.md.
 */
import type { KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type AnchorFile, parseAnchorFile } from '../audit/audit-anchor-file.js';
import { anchoringFromConfig } from '../audit/audit-anchoring.js';
import { AuditCheckpointer } from '../audit/audit-checkpointer.js';
import { auditCsv } from '../audit/audit-csv.js';
import { parseAuditQuery } from '../audit/audit-query.js';
import { publicKeyFromPem } from '../audit/audit-signing-key.js';
import { checkpointSchema, checkpointSignatureHolds, signCheckpoint } from '../audit/checkpoint.js';
import { systemClock } from '../domain/clock.js';
import { InputError } from '../domain/problems.js';
import { describeUaiProblem } from '../domain/uai.js';
import type { AuditFilter, AuditVerification } from '../store/audit-repository.js';
import { COMMON_HELP, type Command, EXIT, reportProblems, stringOption, writeJson } from './command.js';
import { loadCommandConfig, openCommandStore } from './context.js';

export const auditVerifyCommand: Command = {
  name: 'audit verify',
  summary: 'check that the audit log hash chain is unbroken (and unchanged since a checkpoint)',
  help: `Usage: scope-energie audit verify [--against FILE [--public-key PEM]] [--json]

Recomputes the hash of every audit entry in seq order and checks that each one points to the
hash of the entry before it, the first to 64 zeros. A changed field, a deleted row or rows put
in another order break the chain. Exits 0 when the chain holds, 1 naming the first bad seq.

--against FILE compares the log with what FILE recorded: a checkpoint file (from the checkpoint
directory, the webhook or the MQTT topic), a JSON export or a CSV export. A log rewritten since
then with recomputed hashes ("rewritten"), or truncated with its head moved back
("head-moved-back"), fails. A signed FILE must carry a valid signature of the service's key
(from the data directory or audit.signing_key_file), or of --public-key PEM when given (the copy
the auditor pinned from GET /api/audit/public-key).

After a retention purge the walk starts from the purge anchor, which a purge entry in the chain
must name with its signed checkpoint (else "unattested-purge"); entries of a FILE older than the
anchor are not asked (docs/audit.md, "Retention").

${COMMON_HELP}`,
  options: { against: { type: 'string' }, 'public-key': { type: 'string' } },
  async run(args, io) {
    const json = args.values['json'] === true;
    const context = loadCommandConfig(args, io);
    const againstPath = stringOption(args, 'against');
    const publicKeyPath = stringOption(args, 'public-key');
    let against: AnchorFile | undefined;
    let signature: 'valid' | 'invalid' | 'absent' = 'absent';
    // The pinned key when given, else the service's; read only when a signature is checked.
    let publicKey: KeyObject | undefined;
    const keyOf = (): KeyObject =>
      (publicKey ??= anchoringFromConfig(context.config.audit, context, io.env).key.publicKey);
    try {
      if (publicKeyPath !== undefined) {
        publicKey = publicKeyFromPem(
          readText(resolve(io.cwd, publicKeyPath), '--public-key'),
          '--public-key',
        );
      }
      if (againstPath !== undefined) {
        against = parseAnchorFile(readText(resolve(io.cwd, againstPath), '--against'), againstPath);
        if (against.checkpoint) {
          signature = checkpointSignatureHolds(against.checkpoint, keyOf()) ? 'valid' : 'invalid';
        }
      }
    } catch (error) {
      if (error instanceof InputError) {
        reportProblems(io, error.problems, json);
        return EXIT.invalid;
      }
      throw error;
    }
    const store = await openCommandStore(context);
    try {
      // After an audit purge, the checkpoint its entry stops at must carry the same key's signature.
      const checkpointHolds = (checkpoint: unknown): boolean => {
        const parsed = checkpointSchema.safeParse(checkpoint);
        return parsed.success && checkpointSignatureHolds(parsed.data, keyOf());
      };
      const result: AuditVerification & { against?: object } = await store.audit.verify(
        against ? { against: against.anchor, checkpointHolds } : { checkpointHolds },
      );
      if (against) {
        result.against = {
          file: againstPath,
          kind: against.kind,
          seq: against.anchor.seq,
          hash: against.anchor.hash,
          ...(against.checkpoint ? { at: against.checkpoint.at, key_id: against.checkpoint.key_id } : {}),
          signature,
        };
      }
      const ok = result.ok && signature !== 'invalid';
      if (json) writeJson(io, { ...result, ok });
      else {
        if (signature === 'invalid') {
          io.stdout.write(`${againstPath}: signature does not hold (not signed by this key, or altered)\n`);
        }
        if (result.purged) {
          io.stdout.write(
            `entries up to seq ${result.purged.seq} purged by the retention policy (purge entry seq ${result.purged.purgeSeq}): the walk starts after them\n`,
          );
        }
        if (result.ok) {
          io.stdout.write(
            `audit chain holds: ${result.checked - (result.purged?.seq ?? 0)} entries checked\n`,
          );
          if (against) {
            io.stdout.write(
              `matches ${against.kind} ${againstPath} at seq ${against.anchor.seq}${signature === 'valid' ? ' (signature valid)' : ''}\n`,
            );
          }
        } else {
          io.stdout.write(
            `audit chain broken at seq ${result.firstBad?.seq}: ${result.firstBad?.reason} (${result.checked} entries good before it)\n`,
          );
        }
      }
      return ok ? EXIT.ok : EXIT.failure;
    } finally {
      await store.close();
    }
  },
};

export const auditCheckpointCommand: Command = {
  name: 'audit checkpoint',
  summary: 'sign the audit head and write it to the checkpoint sinks',
  help: `Usage: scope-energie audit checkpoint [--json]

Signs the audit log's head (seq, hash, instant) with the service's Ed25519 key and writes it to
the configured sinks (the checkpoint directory, and the webhook when configured; the running
service also publishes its periodic checkpoints on MQTT). Prints the checkpoint. Exits 0 when
every sink stored it, 1 when one failed (the others still have it).

${COMMON_HELP}`,
  options: {},
  async run(args, io) {
    const json = args.values['json'] === true;
    const context = loadCommandConfig(args, io);
    const anchoring = anchoringFromConfig(context.config.audit, context, io.env);
    const store = await openCommandStore(context);
    try {
      const checkpointer = new AuditCheckpointer({
        audit: store.audit,
        key: anchoring.key,
        sinks: anchoring.sinks,
        clock: systemClock,
        intervalMs: 0,
      });
      const result = await checkpointer.checkpoint();
      if (json) writeJson(io, result);
      else {
        io.stdout.write(`${JSON.stringify(result.checkpoint, null, 2)}\n`);
        for (const s of result.sinks)
          io.stdout.write(`${s.ok ? 'stored' : `FAILED (${s.error})`}: ${s.sink}\n`);
      }
      return result.sinks.every((s) => s.ok) ? EXIT.ok : EXIT.failure;
    } finally {
      await store.close();
    }
  },
};

function readText(path: string, where: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw InputError.of(
      'file-unreadable',
      `cannot read ${path}: ${(error as Error).message}`,
      where,
      'malformed',
    );
  }
}

export const auditExportCommand: Command = {
  name: 'audit export',
  summary: 'print audit entries as CSV or JSON',
  help: `Usage: scope-energie audit export [--format csv|json] [--uai UAI] [--zone ZONE]
         [--kind import|plan|publish|ack|override|config] [--from INSTANT] [--to INSTANT]
         [--limit N] [--checkpoint-out FILE]

Prints the entries in seq order on stdout. CSV: UTF-8 with a byte-order mark, ';' between
fields, one header row, detail as JSON in one column (opens in French Excel with accents
intact). JSON: {"entries": [...], "head": {seq, hash}, "checkpoint": {...}, "public_key": {...}}:
the head when exported and a detached signature of it (a checkpoint signed with the service's
Ed25519 key), so the file is an anchor for a later 'audit verify --against FILE'.
--checkpoint-out FILE also writes that signed checkpoint to FILE (for a CSV export).
Instants are ISO 8601 with an offset; --from inclusive, --to exclusive. Default --limit 10000.

${COMMON_HELP}`,
  options: {
    format: { type: 'string' },
    uai: { type: 'string' },
    zone: { type: 'string' },
    kind: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    limit: { type: 'string' },
    'checkpoint-out': { type: 'string' },
  },
  async run(args, io) {
    const json = args.values['json'] === true;
    const raw: Record<string, string | undefined> = {};
    for (const name of ['uai', 'zone', 'kind', 'from', 'to', 'limit', 'format']) {
      raw[name] = stringOption(args, name);
    }
    if (raw['format'] === undefined && json) raw['format'] = 'json';
    let query: ReturnType<typeof parseAuditQuery>;
    try {
      query = parseAuditQuery(raw, (name) => `--${name}`);
      const uaiProblem = query.uai === undefined ? null : describeUaiProblem(query.uai);
      if (uaiProblem) throw InputError.of('bad-uai', uaiProblem, '--uai', 'malformed');
    } catch (error) {
      if (error instanceof InputError) {
        reportProblems(io, error.problems, json);
        return EXIT.invalid;
      }
      throw error;
    }
    const filter: AuditFilter = {
      limit: query.limit,
      ...(query.uai === undefined ? {} : { uai: query.uai }),
      ...(query.zone === undefined ? {} : { zone: query.zone }),
      ...(query.kind === undefined ? {} : { kind: query.kind }),
      ...(query.from === undefined ? {} : { from: query.from }),
      ...(query.to === undefined ? {} : { to: query.to }),
    };
    const context = loadCommandConfig(args, io);
    const { key } = anchoringFromConfig(context.config.audit, context, io.env);
    const store = await openCommandStore(context);
    try {
      // The head first: entries appended while exporting are left out, so the head covers them all.
      const head = await store.audit.head();
      const entries = (await store.audit.list(filter)).filter((e) => e.seq <= head.seq);
      const checkpoint = signCheckpoint(head, systemClock.now(), key);
      const checkpointOut = stringOption(args, 'checkpoint-out');
      if (checkpointOut !== undefined) {
        writeFileSync(resolve(io.cwd, checkpointOut), `${JSON.stringify(checkpoint, null, 2)}\n`, {
          flag: 'wx',
        });
      }
      if (query.format === 'csv') io.stdout.write(auditCsv(entries));
      else {
        writeJson(io, {
          entries,
          head,
          checkpoint,
          public_key: { algorithm: 'Ed25519', key_id: key.keyId, pem: key.publicKeyPem },
        });
      }
      return EXIT.ok;
    } finally {
      await store.close();
    }
  },
};
