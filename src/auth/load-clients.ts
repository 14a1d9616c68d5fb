/**
 * The service's clients at start-up: the configured `clients_file` (optional) plus the bootstrap
 * clients in the data directory, generated on first start when no admin is configured.
 */

import { join } from 'node:path';
import { type BootstrapResult, ensureBootstrapClients, GENERATED_CLIENTS_FILE } from './bootstrap.js';
import { type Client, combineClientFiles, readClientsFile } from './clients.js';

export interface LoadClientsOptions {
  clientsFile: string;
  dataDir: string;
  /** Generate the bootstrap clients when needed (default true); `false` for `scope-energie check`. */
  bootstrap?: boolean;
  /** Generate the demo clients along with the admin (default true; `demo.enabled`). */
  demo?: boolean;
}

export interface LoadedClients extends Omit<BootstrapResult, 'clients'> {
  clients: Client[];
}

export function loadClients(options: LoadClientsOptions): LoadedClients {
  const configured = readClientsFile(options.clientsFile, { optional: true });
  if (options.bootstrap === false) {
    const generated = readClientsFile(join(options.dataDir, GENERATED_CLIENTS_FILE), { optional: true });
    return { clients: combineClientFiles([configured, generated]), created: [], credentialsFile: null };
  }
  const boot = ensureBootstrapClients(options.dataDir, configured.clients, { demo: options.demo ?? true });
  const generatedFile = join(options.dataDir, GENERATED_CLIENTS_FILE);
  const clients = combineClientFiles([
    configured,
    // Re-read for line numbers in cross-file errors; the file was just validated or written.
    readClientsFile(generatedFile, { optional: true }),
  ]);
  return { clients, created: boot.created, credentialsFile: boot.credentialsFile };
}
