/**
 * API clients: `config/clients.yaml` (path from `clients_file`), and the bootstrap clients the
 * service generated in `<data_dir>/clients.generated.yaml`. Only hashes are stored: a clear-text
 * secret or token in the file is refused with the line and the command that hashes it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { formatWhere, parseYamlFile } from '../config/yaml-file.js';
import { InputError } from '../domain/problems.js';
import { describeUaiProblem, normaliseUai } from '../domain/uai.js';
import { PURPOSES, ROLES, type Role } from './principal.js';

export const ALL_UAIS = '*';

/**
 * Roles that may hold `uais: ['*']`. Everyone but `editor`: a leaked editor token with a wildcard
 * could overwrite every school's timetable, so a vendor's connector lists its schools. Consumers
 * need it (the embedded bridge reads every school), managers and auditors may cover a region.
 * `admin` sees every UAI whatever its list says.
 */
export const WILDCARD_ROLES: ReadonlySet<Role> = new Set(['consumer', 'manager', 'auditor', 'admin']);

const SCRYPT_HASH = /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/;
const SHA256_HASH = /^sha256\$[0-9a-f]{64}$/;

// The messages never echo the value: it may be a real secret pasted by mistake.
const secretHash = z.string().refine((value) => SCRYPT_HASH.test(value), {
  message:
    'secret_hash must be a scrypt hash (scrypt$N$r$p$salt$hash), not a clear-text secret: run `scope-energie hash-secret` and paste its output here',
  params: { code: 'clear-text-secret' },
});

const tokenHash = z.string().refine((value) => SHA256_HASH.test(value), {
  message:
    'token_hashes holds SHA-256 hashes (sha256$<64 hex digits>), not tokens: run `scope-energie hash-secret --token` and paste its output here',
  params: { code: 'clear-text-secret' },
});

const uaiOrWildcard = z
  .string()
  .superRefine((text, ctx) => {
    if (text === ALL_UAIS) return;
    const problem = describeUaiProblem(text);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem, params: { code: 'bad-uai' } });
  })
  .transform((text) => (text === ALL_UAIS ? text : normaliseUai(text)));

export const clientSchema = z
  .strictObject({
    id: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
        'a client id is 1 to 64 letters, digits, ".", "_" or "-" (it travels in HTTP Basic and in tokens)',
      ),
    name: z.string().min(1).optional(),
    role: z.enum(ROLES),
    purpose: z.enum(PURPOSES).optional(),
    uais: z.array(uaiOrWildcard).optional(),
    secret_hash: secretHash
      .optional()
      .describe('scrypt hash of the OAuth client secret (client_credentials).'),
    token_hashes: z
      .array(tokenHash)
      .default([])
      .describe('SHA-256 hashes of static bearer tokens; several allow rotation.'),
    disabled: z.boolean().default(false),
  })
  .superRefine((client, ctx) => {
    if (client.role === 'consumer' && client.purpose === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['purpose'],
        message: `a consumer needs a purpose: ${PURPOSES.join(' or ')}`,
        params: { code: 'missing-purpose' },
      });
    }
    if (client.role !== 'consumer' && client.purpose !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['purpose'],
        message: `only a consumer has a purpose; ${withArticle(client.role)} does not`,
        params: { code: 'unexpected-purpose' },
      });
    }
    if (client.role !== 'admin' && (client.uais === undefined || client.uais.length === 0)) {
      ctx.addIssue({
        code: 'custom',
        path: ['uais'],
        message: `${withArticle(client.role)} lists the UAIs it may use (or ['*'] for all)`,
        params: { code: 'missing-uais' },
      });
    }
    const uais = client.uais ?? [];
    if (uais.includes(ALL_UAIS)) {
      if (!WILDCARD_ROLES.has(client.role)) {
        ctx.addIssue({
          code: 'custom',
          path: ['uais'],
          message: `${withArticle(client.role)} may not have '*': list its UAIs`,
          params: { code: 'wildcard-refused' },
        });
      } else if (uais.length > 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['uais'],
          message: "'*' already means every UAI: write it alone",
          params: { code: 'wildcard-not-alone' },
        });
      }
    }
  });

function withArticle(role: Role): string {
  return /^[aeiou]/.test(role) ? `an ${role}` : `a ${role}`;
}

export type Client = z.output<typeof clientSchema>;
export type ClientInput = z.input<typeof clientSchema>;

export const clientsFileSchema = z
  .strictObject({ clients: z.array(clientSchema).default([]) })
  .superRefine((file, ctx) => {
    const ids = new Set<string>();
    const tokens = new Set<string>();
    file.clients.forEach((client, index) => {
      if (ids.has(client.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['clients', index, 'id'],
          message: `client id "${client.id}" appears twice`,
          params: { code: 'duplicate-client' },
        });
      }
      ids.add(client.id);
      client.token_hashes.forEach((hash, t) => {
        if (tokens.has(hash)) {
          ctx.addIssue({
            code: 'custom',
            path: ['clients', index, 'token_hashes', t],
            message: 'this token hash is already given to another client',
            params: { code: 'duplicate-token' },
          });
        }
        tokens.add(hash);
      });
    });
  });

export interface ClientsFile {
  file: string;
  clients: Client[];
  /** Line of a field, to name it in errors found across files. */
  lineOf(path: readonly (string | number)[]): number;
}

/** Reads and validates one clients file; a missing `optional` file counts as empty. */
export function readClientsFile(file: string, options: { optional?: boolean } = {}): ClientsFile {
  if (!existsSync(file)) {
    if (options.optional) return { file, clients: [], lineOf: () => 1 };
    throw InputError.of('file-not-found', `clients file ${file} does not exist`, file);
  }
  const parsed = parseYamlFile(readFileSync(file, 'utf8'), file, clientsFileSchema);
  return { file, clients: parsed.value.clients, lineOf: parsed.lineOf };
}

/** Joins clients files; an id or token hash given by two files is an error naming the later one. */
export function combineClientFiles(files: readonly ClientsFile[]): Client[] {
  const byId = new Map<string, string>();
  const byToken = new Map<string, string>();
  const out: Client[] = [];
  for (const source of files) {
    source.clients.forEach((client, index) => {
      const other = byId.get(client.id);
      if (other !== undefined) {
        const path = ['clients', index, 'id'];
        throw InputError.of(
          'duplicate-client',
          `client id "${client.id}" is also defined in ${other}`,
          formatWhere(source.file, source.lineOf(path), undefined, path),
        );
      }
      byId.set(client.id, source.file);
      client.token_hashes.forEach((hash, t) => {
        const owner = byToken.get(hash);
        if (owner !== undefined) {
          const path = ['clients', index, 'token_hashes', t];
          throw InputError.of(
            'duplicate-token',
            `this token hash is already given to client "${owner}"`,
            formatWhere(source.file, source.lineOf(path), undefined, path),
          );
        }
        byToken.set(hash, client.id);
      });
      out.push(client);
    });
  }
  return out;
}
