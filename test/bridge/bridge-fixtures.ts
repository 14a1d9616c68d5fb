/**
 * Shared set-up of the bridge input tests: a copy of the repository's site (the demo lycée and
 * rules/default.yaml) plus a school that never sends a timetable, and a real embedded hub (ENTRÉE
 * + SORTIE on @hono/node-server, port 0) on a real store, which a test can take down (503, or
 * refusing connections) and bring back on the same port.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { createHttpApp } from '../../src/app/app.js';
import type { HeldOccupancy } from '../../src/bridge/planning.js';
import { CachingTokenProvider, SortieClient } from '../../src/bridge/sortie-client.js';
import { expandOccupancy } from '../../src/calendar/index.js';
import { buildDemoTimetable, DEMO_UAI } from '../../src/demo/demo-lycee.js';
import type { Clock } from '../../src/domain/clock.js';
import { type TimetableInput, timetableSchema } from '../../src/domain/timetable.js';
import { schoolCalendars } from '../../src/scope/sortie/school-calendars.js';
import type { Store } from '../../src/store/store.js';
import { REPO_ROOT, tempWorkDir } from '../helpers/cli.js';
import { makeClients } from '../helpers/clients.js';

export { DEMO_UAI };
/** A school with a devices file that the hub never receives a timetable for. */
export const NO_DATA_UAI = '0670080Y';
export const OUTSIDE_UAI = '0679999E';

export function copySite() {
  const dir = tempWorkDir();
  cpSync(join(REPO_ROOT, 'devices'), join(dir, 'devices'), { recursive: true });
  cpSync(join(REPO_ROOT, 'rules'), join(dir, 'rules'), { recursive: true });
  const demo = readFileSync(join(dir, 'devices', `${DEMO_UAI}.yaml`), 'utf8');
  const hash = /password_hash: "([^"]+)"/.exec(demo)?.[1] ?? '';
  writeFileSync(
    join(dir, 'devices', `${NO_DATA_UAI}.yaml`),
    `school:
  uai: "${NO_DATA_UAI}"
  name: "Lycée sans emploi du temps"
  timezone: Europe/Paris
gateways:
  - id: gw-sans-edt
    username: gw-sans-edt
    password_hash: "${hash}"
zones:
  - id: salles
    name: "Salles de cours"
    gateway: gw-sans-edt
    rooms: [S1, S2]
    functions: [heating, lighting]
    category: classroom
    heating_type: hydronic
`,
  );
  return { dir, devicesDir: join(dir, 'devices'), rulesDir: join(dir, 'rules') };
}

export function bridgeClients(clock: Clock) {
  return makeClients(
    [
      { id: 'editor', role: 'editor', uais: [DEMO_UAI] },
      { id: 'bridge', role: 'consumer', purpose: 'sobriete-energetique', uais: ['*'] },
      { id: 'manager', role: 'manager', uais: [DEMO_UAI, NO_DATA_UAI] },
      { id: 'other-manager', role: 'manager', uais: [OUTSIDE_UAI] },
      { id: 'auditor', role: 'auditor', uais: [DEMO_UAI] },
      { id: 'admin', role: 'admin' },
    ],
    clock,
  );
}

export type HubState = 'up' | '503' | 'refuse';

export interface RequestLog {
  method: string;
  path: string;
  status: number;
  ifNoneMatch: string | null;
}

/** The embedded hub on a real port; `state` takes it down and back. */
export async function startHub(options: {
  store: Store;
  clock: Clock;
  clients: ReturnType<typeof bridgeClients>;
  onImported?: (uai: string, version: number) => void;
}) {
  const { store, clock, clients } = options;
  const app = createHttpApp({
    authenticator: clients.authenticator,
    entree: {
      store,
      clock,
      bodyLimitBytes: 8 * 1024 * 1024,
      strictJson: false,
      onImported: (report) => options.onImported?.(report.uai, report.version),
    },
    sortie: { store, calendars: schoolCalendars({ zone: 'B' }) },
  });
  const log: RequestLog[] = [];
  let state: HubState = 'up';
  const fetch = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const response =
      state === '503'
        ? new Response('{"errors":[{"code":"down","message":"maintenance","where":"test"}]}', { status: 503 })
        : await app.fetch(request);
    log.push({
      method: request.method,
      path: url.pathname + url.search,
      status: response.status,
      ifNoneMatch: request.headers.get('If-None-Match'),
    });
    return response;
  };
  const listen = (port: number) =>
    new Promise<Server>((done) => {
      const server = serve({ fetch, hostname: '127.0.0.1', port }, () => done(server as Server));
    });
  let server: Server | null = await listen(0);
  const port = (server.address() as AddressInfo).port;
  const close = () =>
    new Promise<void>((done) => {
      if (!server) return done();
      server.closeAllConnections();
      server.close(() => done());
      server = null;
    });
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    app,
    async setState(next: HubState) {
      if (next === 'refuse') await close();
      else if (!server) server = await listen(port);
      state = next === 'refuse' ? 'up' : next;
    },
    /** Over the socket, like an editor's connector. */
    put(timetable: TimetableInput) {
      return globalThis.fetch(
        `http://127.0.0.1:${port}/scope/entree/v1/etablissements/${timetable.uai}/emploi-du-temps`,
        {
          method: 'PUT',
          body: JSON.stringify(timetable),
          headers: { 'Content-Type': 'application/json', ...clients.bearer('editor') },
        },
      );
    },
    close,
  };
}

/** The embedded bridge's SORTIE client: its own consumer client's tokens, minted in-process. */
export function embeddedClient(hubUrl: string, clients: ReturnType<typeof bridgeClients>, clock: Clock) {
  return new SortieClient({
    baseUrl: `${hubUrl}/scope/sortie/v1`,
    tokens: new CachingTokenProvider(() => clients.authenticator.mintToken('bridge'), clock),
    timeoutMs: 2000,
    retries: 1,
    sleep: async () => {},
  });
}

/** `2026-01-12T08:00` local (Europe/Paris, winter: UTC+1) → epoch ms. */
export const winter = (localIso: string): number => Date.parse(`${localIso}:00+01:00`);

/**
 * The demo timetable expanded as SORTIE would (shipped zone-B holidays), for planning tests that
 * need occupancy without a hub: `heldDemo(dates)` is what the sync would hold.
 */
export function heldDemo(
  dates: { from: string; to: string },
  now = Date.parse('2026-01-12T08:00:00Z'),
): HeldOccupancy {
  const timetable = timetableSchema.parse(buildDemoTimetable(now));
  const calendar = schoolCalendars({ zone: 'B' }).calendarOf(DEMO_UAI, 'Europe/Paris');
  return { occupancy: expandOccupancy(timetable, 1, DEMO_UAI, calendar, dates), ...dates };
}

/** An occupancy source holding fixed data (what a SyncService gives planning). */
export function fixedOccupancy(byUai: Record<string, HeldOccupancy>) {
  return {
    occupancyFor: (uai: string) => byUai[uai] ?? null,
    onChange: () => () => {},
  };
}
