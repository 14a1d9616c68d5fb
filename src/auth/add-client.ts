/**
 * Onboarding a client without editing YAML by hand (`scope-energie clients add`, `POST
 * /api/admin/clients`): a new client with a random credential is appended to the configured
 * clients file, its hash only; the clear credential is returned once, to be handed over. The
 * file's comments and layout stay as the operator wrote them (the `yaml` package's Document API),
 * and it is replaced atomically, so the running service's watch (clients-holder.ts) never reads
 * half a file.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type Document, isMap, isSeq, parseDocument, YAMLSeq } from 'yaml';
import { z } from 'zod';
import { parseYamlFile } from '../config/yaml-file.js';
import { InputError } from '../domain/problems.js';
import {
  type Client,
  type ClientInput,
  type ClientsFile,
  clientSchema,
  clientsFileSchema,
  combineClientFiles,
  readClientsFile,
} from './clients.js';
import { PURPOSES, ROLES } from './principal.js';
import { generateToken, hashSecretAsync, hashToken } from './secrets.js';

/** What an operator asks for; the client's own rules (role, purpose, UAIs) are clientSchema's. */
export const newClientSchema = z.strictObject({
  id: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
      'a client id is 1 to 64 letters, digits, ".", "_" or "-" (it travels in HTTP Basic and in tokens)',
    )
    .optional()
    .describe('Client id; default: the role and 8 random hex digits (manager-3f9a0c1e)'),
  name: z.string().min(1).max(200).optional().describe('Who the client is, for people reading the file'),
  role: z.enum(ROLES),
  purpose: z.enum(PURPOSES).optional().describe('Consumers only'),
  uais: z
    .array(z.string().max(16))
    .min(1)
    .max(10_000)
    .optional()
    .describe("The schools the client may use (['*'] for all, refused for editors); required but for admin"),
  credential: z
    .enum(['secret', 'token'])
    .default('secret')
    .describe(
      'secret: an OAuth2 client secret (also the login form’s), stored as a scrypt hash; token: a static bearer token, stored as a SHA-256 hash',
    ),
});

export type NewClientRequest = z.input<typeof newClientSchema>;

export interface AddedClient {
  client: Client;
  /** The clear secret or token: shown once, stored nowhere. */
  credential: { kind: 'secret' | 'token'; value: string };
  file: string;
}

export interface AddClientOptions {
  /** The configured `clients_file`: the file written. */
  file: string;
  /** Other clients files the ids and token hashes must not collide with (the generated one). */
  otherFiles?: readonly string[];
  /** Written above the new entry, e.g. who added it and when. */
  comment?: string;
}

const NEW_FILE_HEADER =
  '# scope-energie API clients (config/clients.example.yaml explains every field).\n' +
  '# Only hashes are stored; `scope-energie clients add` appends new clients here.\n';

/**
 * Validates the request, hashes a new credential (scrypt off the event loop), and appends the
 * client. Throws `InputError` naming the field (or the file and line of a clash) and writes
 * nothing when anything is wrong.
 */
export async function addClient(request: unknown, options: AddClientOptions): Promise<AddedClient> {
  const parsed = newClientSchema.safeParse(request);
  if (!parsed.success) {
    throw new InputError(
      parsed.error.issues.map((issue) => ({
        code: issue.code === 'unrecognized_keys' ? 'field-unknown' : 'bad-field',
        message: issue.message,
        where: `$.${issue.path.join('.') || '(body)'}`,
      })),
      'malformed',
    );
  }
  const wanted = parsed.data;
  const id = wanted.id ?? `${wanted.role}-${randomBytes(4).toString('hex')}`;
  const value = generateToken(wanted.credential === 'token' ? 'se' : 'sec');
  const input: ClientInput = {
    id,
    ...(wanted.name ? { name: wanted.name } : {}),
    role: wanted.role,
    ...(wanted.purpose ? { purpose: wanted.purpose } : {}),
    ...(wanted.uais ? { uais: wanted.uais } : {}),
    ...(wanted.credential === 'token'
      ? { token_hashes: [hashToken(value)] }
      : { secret_hash: await hashSecretAsync(value) }),
  };
  const checked = clientSchema.safeParse(input);
  if (!checked.success) {
    throw new InputError(
      checked.error.issues.map((issue) => {
        const params = issue.code === 'custom' ? (issue.params as { code?: unknown } | undefined) : undefined;
        return {
          code: typeof params?.code === 'string' ? params.code : 'bad-field',
          message: issue.message,
          where: `$.${issue.path.join('.') || '(body)'}`,
        };
      }),
      'invalid',
    );
  }
  // Read after the hash: the append below is synchronous, so two adds in one process never
  // interleave between reading and replacing the file.
  appendClient(options, { ...input, uais: checked.data.uais });
  return { client: checked.data, credential: { kind: wanted.credential, value }, file: options.file };
}

function appendClient(options: AddClientOptions, input: ClientInput): void {
  const { file } = options;
  // The file as it stands must be valid: never build on a broken file (the message names its line).
  const exists = existsSync(file);
  if (exists) readClientsFile(file);
  const text = exists ? readFileSync(file, 'utf8') : NEW_FILE_HEADER;
  // Not the parsed subtype: nodes created here carry no source range.
  const doc: Document = parseDocument(text);
  const entry = doc.createNode(Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)));
  if (options.comment) entry.commentBefore = ` ${options.comment}`;
  // Short lists on one line, as in clients.example.yaml: `uais: [0670999X, 0670080Y]`.
  for (const key of ['uais', 'token_hashes']) {
    const list = isMap(entry) ? entry.get(key, true) : undefined;
    if (isSeq(list)) list.flow = key === 'uais';
  }
  if (!isMap(doc.contents)) {
    doc.contents = doc.createNode({ clients: [] });
  }
  let list = doc.get('clients', true);
  if (!isSeq(list)) {
    list = new YAMLSeq(doc.schema);
    doc.set('clients', list);
  }
  const seq = list as YAMLSeq;
  // An empty flow list (`clients: []`) becomes a block list, the file's usual look.
  seq.flow = false;
  // Keep the blank line between entries when the file has one.
  entry.spaceBefore = seq.items.some((item) => (item as { spaceBefore?: boolean }).spaceBefore === true);
  seq.items.push(entry);
  // No padding inside `[…]`: the operator's own lists are written back as they were.
  const next = doc.toString({ flowCollectionPadding: false });

  const updated = parseYamlFile(next, file, clientsFileSchema);
  const others: ClientsFile[] = (options.otherFiles ?? []).map((other) =>
    readClientsFile(other, { optional: true }),
  );
  combineClientFiles([{ file, clients: updated.value.clients, lineOf: updated.lineOf }, ...others]);
  writeAtomically(file, next, exists ? statSync(file).mode & 0o777 : 0o600);
}

/** Temp file + rename in the same directory, keeping the file's mode (0600 for a new one). */
function writeAtomically(file: string, text: string, mode: number): void {
  const temporary = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  writeFileSync(temporary, text, { mode });
  chmodSync(temporary, mode);
  renameSync(temporary, file);
}
