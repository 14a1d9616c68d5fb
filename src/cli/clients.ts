/**
 * `scope-energie clients add`: onboards an API client (a manager for some schools, a consumer…)
 * without editing YAML (src/auth/add-client.ts). The running service reloads the clients file
 * when it changes, so the printed credential works at once, without a restart.
 */
import { join, resolve } from 'node:path';
import { addClient } from '../auth/add-client.js';
import { GENERATED_CLIENTS_FILE } from '../auth/bootstrap.js';
import { type Command, EXIT, stringOption, writeJson } from './command.js';
import { loadCommandConfig } from './context.js';

export const clientsAddCommand: Command = {
  name: 'clients add',
  summary: 'add an API client to the clients file and print its secret once (no restart needed)',
  help: `Usage: scope-energie clients add --role ROLE [--uai U,V] [--name NAME] [--id ID]
                                 [--purpose PURPOSE] [--token]

Appends a client to the configured clients file (clients_file, default config/clients.yaml),
keeping its comments, with a new random secret stored as a scrypt hash, and prints the secret
ONCE: hand it to the client, it is stored nowhere. A running service reloads the file when it
changes: the client can log in (/connexion) or ask for tokens (POST /oauth/token) at once.

  --role ROLE        editor, consumer, manager, auditor or admin
  --uai U,V          the schools it may use, comma-separated ('*' for all; refused for editors);
                     required but for admin
  --name NAME        who it is, for people reading the file
  --id ID            client id (default: the role and 8 random hex digits)
  --purpose P        consumers only: sobriete-energetique or ent
  --token            a static bearer token (SHA-256 hash stored) instead of a client secret`,
  options: {
    role: { type: 'string' },
    uai: { type: 'string' },
    name: { type: 'string' },
    id: { type: 'string' },
    purpose: { type: 'string' },
    token: { type: 'boolean' },
  },
  async run(args, io) {
    const context = loadCommandConfig(args, io);
    const file = resolve(context.baseDir, context.config.clients_file);
    const uai = stringOption(args, 'uai');
    const request = {
      role: stringOption(args, 'role'),
      ...(uai === undefined
        ? {}
        : {
            uais: uai
              .split(',')
              .map((u) => u.trim())
              .filter((u) => u !== ''),
          }),
      ...optional('name', stringOption(args, 'name')),
      ...optional('id', stringOption(args, 'id')),
      ...optional('purpose', stringOption(args, 'purpose')),
      credential: args.values['token'] === true ? 'token' : 'secret',
    };
    const added = await addClient(request, {
      file,
      otherFiles: [join(context.dataDir, GENERATED_CLIENTS_FILE)],
      comment: `added by scope-energie clients add on ${new Date().toISOString()}`,
    });
    const { client, credential } = added;
    if (args.values['json'] === true) {
      writeJson(io, {
        id: client.id,
        role: client.role,
        ...(client.purpose ? { purpose: client.purpose } : {}),
        uais: client.uais ?? [],
        file: context.config.clients_file,
        credential: credential.kind,
        [credential.kind]: credential.value,
      });
      return EXIT.ok;
    }
    const scope = client.uais?.join(', ') ?? 'all';
    io.stdout.write(
      `client ${client.id} (${client.role}${client.purpose ? `, ${client.purpose}` : ''}; UAI ${scope}) added to ${context.config.clients_file}\n` +
        (credential.kind === 'secret'
          ? `secret: ${credential.value}\n` +
            'Shown once, stored as a hash only. Log in at /connexion with the client id and this secret,\n' +
            'or get tokens at POST /oauth/token (client_credentials).\n'
          : `token: ${credential.value}\n` +
            'Shown once, stored as a hash only. Use it as "Authorization: Bearer <token>".\n'),
    );
    return EXIT.ok;
  },
};

/** `{ key: value }` when the option was given (exactOptionalPropertyTypes: no `key: undefined`). */
function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}
