/**
 * Which occupancy source the bridge reads (config `sortie.source`, docs/deployment.md "Remote
 * hub"): the service and the offline CLI build it here, the same way.
 */
import type { Clock } from '../domain/clock.js';
import type { SortieOccupancy } from '../scope/sortie/sortie-occupancy.js';
import { InProcessSortie } from './in-process-sortie.js';
import { clientCredentialsTokens, SortieClient } from './sortie-client.js';
import type { SortieSource } from './sortie-source.js';

export interface SortieSourceSettings {
  /** Config `sortie.source`: `embedded` reads in process, an object names a remote hub. */
  source: 'embedded' | { url: string; token_url: string; client_id: string; client_secret_env: string };
  timeout_ms: number;
  retries: number;
}

export interface SortieSourceWiring {
  /** This service's SORTIE answers (shared with its HTTP route), read in process when embedded. */
  sortie: SortieOccupancy;
  env: NodeJS.ProcessEnv;
  clock?: Clock;
}

/**
 * The source the configuration asks for: this service's SORTIE in process (`embedded`, the
 * default), or a remote hub over HTTP with client credentials (its secret read from the named
 * environment variable).
 */
export function sortieSourceFromConfig(
  settings: SortieSourceSettings,
  wiring: SortieSourceWiring,
): SortieSource {
  if (settings.source === 'embedded') return new InProcessSortie({ sortie: wiring.sortie });
  const remote = settings.source;
  const secret = wiring.env[remote.client_secret_env];
  if (secret === undefined || secret === '') {
    throw new Error(
      `sortie.source.client_secret_env names ${remote.client_secret_env}, which is not set: export the client secret of ${remote.client_id} there`,
    );
  }
  return new SortieClient({
    timeoutMs: settings.timeout_ms,
    retries: settings.retries,
    baseUrl: remote.url,
    tokens: clientCredentialsTokens({
      tokenUrl: remote.token_url,
      clientId: remote.client_id,
      clientSecret: secret,
      timeoutMs: settings.timeout_ms,
      ...(wiring.clock ? { clock: wiring.clock } : {}),
    }),
  });
}
