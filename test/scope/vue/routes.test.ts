/**
 * SCOPE-VUE, the login pages and the API description through the real hono app: who may see the
 * page, what the grid and the panel show for the demo lycée (with the repository's
 * devices/0670999X.yaml), the session cookie and its CSRF guard, `/openapi.json` and `/docs`.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../../src/app/app.js';
import { documentedRoutes } from '../../../src/app/openapi.js';
import { Authenticator } from '../../../src/auth/authenticator.js';
import { clientSchema } from '../../../src/auth/clients.js';
import { hashSecret } from '../../../src/auth/secrets.js';
import { buildDemoTimetable, DEMO_UAI } from '../../../src/demo/demo-lycee.js';
import { ManualClock } from '../../../src/domain/clock.js';
import { schoolCalendars } from '../../../src/scope/sortie/school-calendars.js';
import { SiteHolder } from '../../../src/site/site-holder.js';
import type { Store } from '../../../src/store/store.js';
import { makeClients } from '../../helpers/clients.js';
import { type StoreBackend, storeBackends } from '../../store/backends.js';

const DEVICES_DIR = fileURLToPath(new URL('../../../devices', import.meta.url));
const RULES_DIR = fileURLToPath(new URL('../../../rules', import.meta.url));
const VUE = `/scope/vue/${DEMO_UAI}`;
const ORIGIN = 'http://localhost';
const SECRET = 'correct horse battery staple';

const backends: StoreBackend[] = await storeBackends();

describe.each(backends)('SCOPE-VUE on $name', (backend) => {
  // Friday 28 November 2025, 11:00 in Paris: the current week starts on Monday 24 November.
  const clock = new ManualClock(Date.parse('2025-11-28T10:00:00Z'));
  const made = makeClients([
    { id: 'editor', role: 'editor', uais: [DEMO_UAI] },
    { id: 'energie', role: 'consumer', purpose: 'sobriete-energetique', uais: [DEMO_UAI] },
    { id: 'manager', role: 'manager', uais: [DEMO_UAI] },
    { id: 'other-manager', role: 'manager', uais: ['0670080Y'] },
    { id: 'auditor', role: 'auditor', uais: [DEMO_UAI] },
    { id: 'admin', role: 'admin' },
  ]);
  const withSecret = clientSchema.parse({
    id: 'manager-secret',
    role: 'manager',
    uais: [DEMO_UAI],
    secret_hash: hashSecret(SECRET),
  });
  const authenticator = new Authenticator({
    clients: [...[...made.clients.values()].map((c) => c.client), withSecret],
    signingKey: new Uint8Array(32).fill(7),
    issuer: 'scope-energie-test',
    audience: 'scope-energie-test',
    tokenTtlSeconds: 900,
    clock,
  });
  const { bearer } = made;
  const tokenOf = (id: string) => made.clients.get(id)?.token ?? '';
  let store: Store;
  let app: ReturnType<typeof createHttpApp>;
  const page = (path: string, who: string) =>
    app.request(path, { headers: { ...bearer(who), Accept: 'text/html' } });
  const login = (
    form: Record<string, string>,
    headers: Record<string, string> = { Origin: ORIGIN },
    base = ORIGIN,
  ) =>
    app.request(`${base}/connexion`, {
      method: 'POST',
      body: new URLSearchParams(form).toString(),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    });

  beforeAll(async () => {
    store = await backend.open();
    const calendars = schoolCalendars({ zone: 'B' });
    app = createHttpApp({
      authenticator,
      entree: { store, clock, bodyLimitBytes: 4 * 1024 * 1024, strictJson: false },
      sortie: { store, calendars },
      vue: {
        store,
        clock,
        calendars,
        site: new SiteHolder({ devicesDir: DEVICES_DIR, rulesDir: RULES_DIR }),
      },
      docs: { version: '9.9.9' },
    });
    const res = await app.request(`/scope/entree/v1/etablissements/${DEMO_UAI}/emploi-du-temps`, {
      method: 'PUT',
      body: JSON.stringify(buildDemoTimetable(clock.now())),
      headers: { 'Content-Type': 'application/json', ...bearer('editor') },
    });
    expect(res.status).toBe(201);
  });
  afterAll(() => backend.cleanup());

  describe('the week page', () => {
    it('shows the current week of the injected clock as a French, accessible rooms × days table', async () => {
      const res = await page(VUE, 'manager');
      expect(res.status).toBe(200);
      expect(res.headers.get('Content-Type')).toMatch(/^text\/html/);
      const text = await res.text();
      expect(text).toContain('<html lang="fr">');
      expect(text).toContain('<caption>Occupation des salles, semaine du 24/11/2025 au 30/11/2025</caption>');
      expect(text).toContain('<th scope="col">Salle</th><th scope="col">lundi 24/11</th>');
      expect(text).toContain('<th scope="col">samedi 29/11</th>');
      expect(text).toContain('<th scope="row">B101</th>');
      expect(text).toContain('<th scope="row">Sans salle</th>');
      // B101, Monday, first slot: k = 0·7 + 1·3 + 0 = 3 → ANGLAIS LV1, class 1RE G1 (demo-lycee.ts).
      expect(text).toContain(
        '<li id="cours-demo-B101-1-0" data-cours="demo-B101-1-0"><span class="horaire">08:00–09:55</span> ANGLAIS LV1 · 1RE G1</li>',
      );
      expect(text).toContain(`href="${VUE}?semaine=2025-11-17" rel="prev"`);
      expect(text).toContain(`href="${VUE}?semaine=2025-12-01" rel="next"`);
    });

    it('shows the week of ?semaine=, names closed days and highlights ?cours=', async () => {
      const res = await page(`${VUE}?semaine=2025-12-24&cours=demo-B101-1-0`, 'admin');
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toContain('semaine du 22/12/2025 au 28/12/2025');
      expect(text).toContain('<th scope="col">jeudi 25/12<br><small>Fermé : Noël</small></th>');
      expect(text).toContain('<th scope="col">lundi 22/12<br><small>Fermé : Vacances de Noël</small></th>');
      expect(text).toContain('<li id="cours-demo-B101-1-0" class="signale" data-cours="demo-B101-1-0">');
    });

    it('shows the data-quality panel with the demo’s lesson without a room and its holiday weeks', async () => {
      const text = await (await page(VUE, 'manager')).text();
      expect(text).toContain('<h2 id="qualite-titre">Qualité des données</h2>');
      expect(text).toContain('<h3 id="constat-sans-salle-titre">Cours sans salle (1 cours, 1 groupe)</h3>');
      expect(text).toContain(
        `<a href="${VUE}?semaine=2025-11-24&amp;cours=demo-sans-salle#cours-demo-sans-salle">demo-sans-salle · ACCOMPAGNEMENT · jeudi 13:30–15:25</a>`,
      );
      expect(text).toContain(
        '<h3 id="constat-chevauchement-titre">Cours qui se chevauchent dans une même salle (0)</h3>',
      );
      expect(text).toContain(
        '<h3 id="constat-salle-inconnue-titre">Salles de l’emploi du temps inconnues de devices/ (0)</h3>',
      );
      expect(text).toContain('Semaine du 22/12/2025 (Vacances de Noël, Noël, Saint Étienne)');
      expect(text).toContain(`<a href="${VUE}?semaine=2025-12-22">Voir la semaine</a>`);
    });

    it('admits managers and admin only; a school outside the list is the 404 of a missing one', async () => {
      for (const who of ['energie', 'editor', 'auditor']) {
        const res = await page(VUE, who);
        expect(res.status, who).toBe(403);
        expect(await res.text()).toContain('<h1>Accès refusé</h1>');
      }
      const hidden = await page(VUE, 'other-manager');
      const absent = await page('/scope/vue/0679999E', 'admin');
      expect(hidden.status).toBe(404);
      expect(absent.status).toBe(404);
      expect(await hidden.text()).toContain(`Aucun établissement ${DEMO_UAI} visible.`);
    });

    it('refuses a malformed week (400) and sends browsers without a session to the login form', async () => {
      const bad = await page(`${VUE}?semaine=2025-02-30`, 'manager');
      expect(bad.status).toBe(400);
      expect(await bad.text()).toContain('semaine : &quot;2025-02-30&quot; is not a date YYYY-MM-DD');

      const anonymous = await app.request(`${VUE}?semaine=2025-12-01`, { headers: { Accept: 'text/html' } });
      expect(anonymous.status).toBe(303);
      expect(anonymous.headers.get('Location')).toBe(
        `/connexion?suite=${encodeURIComponent(`${VUE}?semaine=2025-12-01`)}`,
      );
      const script = await app.request(VUE);
      expect(script.status).toBe(401);
      expect(((await script.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe('unauthorized');
    });

    it('lists the visible schools at /scope/vue', async () => {
      const text = await (await page('/scope/vue', 'manager')).text();
      expect(text).toContain(
        `<a href="${VUE}">Lycée des Tilleuls (démonstration) (${DEMO_UAI})</a>, version 1`,
      );
    });
  });

  describe('login and session cookie', () => {
    const sessionOf = (res: Response) =>
      /scope_session=([^;]+)/.exec(res.headers.get('Set-Cookie') ?? '')?.[1];

    it('opens an HttpOnly, SameSite=Strict session with a static token, usable on VUE', async () => {
      const res = await login({ jeton: tokenOf('manager'), suite: `${VUE}?semaine=2025-12-01` });
      expect(res.status).toBe(303);
      expect(res.headers.get('Location')).toBe(`${VUE}?semaine=2025-12-01`);
      const cookie = res.headers.get('Set-Cookie') ?? '';
      expect(cookie).toMatch(
        /^scope_session=[\w-]+\.[\w-]+\.[\w-]+; Max-Age=900; Path=\/; HttpOnly; SameSite=Strict$/,
      );
      const session = sessionOf(res);
      const view = await app.request(VUE, {
        headers: { Cookie: `scope_session=${session}`, Accept: 'text/html' },
      });
      expect(view.status).toBe(200);
      expect(await view.text()).toContain('Connecté : manager');
    });

    it('opens a session with a client id and secret, and marks the cookie Secure over https', async () => {
      const res = await login(
        { identifiant: 'manager-secret', secret: SECRET },
        { Origin: 'https://scope.example.fr' },
        'https://scope.example.fr',
      );
      expect(res.status).toBe(303);
      expect(res.headers.get('Location')).toBe('/scope/vue');
      expect(res.headers.get('Set-Cookie')).toContain('; Secure');
    });

    it('refuses wrong credentials (401) and an empty form (400) with a French message', async () => {
      const wrong = await login({ identifiant: 'manager-secret', secret: 'nope' });
      expect(wrong.status).toBe(401);
      expect(await wrong.text()).toContain('Identifiant ou secret incorrect.');
      const badToken = await login({ jeton: 'not-a-token' });
      expect(badToken.status).toBe(401);
      expect(await badToken.text()).toContain('Ce jeton n’est pas reconnu ou a expiré.');
      const empty = await login({});
      expect(empty.status).toBe(400);
      expect(wrong.headers.get('Set-Cookie')).toBeNull();
    });

    it('refuses cross-site POSTs and POSTs without Origin or Referer (403)', async () => {
      const crossSite: Record<string, string>[] = [
        { Origin: 'https://evil.example' },
        {},
        { Referer: 'https://evil.example/page' },
      ];
      for (const headers of crossSite) {
        const res = await login({ jeton: tokenOf('manager') }, headers);
        expect(res.status, JSON.stringify(headers)).toBe(403);
        expect(res.headers.get('Set-Cookie')).toBeNull();
      }
      const sameSiteReferer = await login({ jeton: tokenOf('manager') }, { Referer: `${ORIGIN}/connexion` });
      expect(sameSiteReferer.status).toBe(303);
    });

    it('never redirects off-site after login', async () => {
      const res = await login({ jeton: tokenOf('manager'), suite: '//evil.example/x' });
      expect(res.headers.get('Location')).toBe('/scope/vue');
    });

    it('refuses a tampered session cookie and clears the cookie at logout', async () => {
      const session = sessionOf(await login({ jeton: tokenOf('manager') })) ?? '';
      const tampered = `${session.slice(0, -2)}xx`;
      const res = await app.request(VUE, {
        headers: { Cookie: `scope_session=${tampered}`, Accept: 'text/html' },
      });
      expect(res.status).toBe(303);
      expect(res.headers.get('Location')).toMatch(/^\/connexion\?suite=/);

      const out = await app.request(`${ORIGIN}/deconnexion`, { method: 'POST', headers: { Origin: ORIGIN } });
      expect(out.status).toBe(303);
      expect(out.headers.get('Set-Cookie')).toMatch(
        /^scope_session=; Max-Age=0; Path=\/; HttpOnly; SameSite=Strict$/,
      );
    });

    it('serves the login form in French with labelled fields', async () => {
      const text = await (await app.request('/connexion?suite=/scope/vue/0670999X')).text();
      expect(text).toContain('<html lang="fr">');
      expect(text).toContain('<label for="identifiant">Identifiant client</label>');
      expect(text).toContain('<label for="jeton">Jeton (bearer)</label>');
      expect(text).toContain('<input type="hidden" name="suite" value="/scope/vue/0670999X">');
    });
  });

  describe('API description', () => {
    it('needs a token like every route but health', async () => {
      expect((await app.request('/openapi.json')).status).toBe(401);
      expect((await app.request('/docs', { headers: { Accept: 'text/html' } })).status).toBe(303);
      expect((await app.request('/healthz')).status).toBe(200);
    });

    it('describes every route in OpenAPI 3.1 from the routes’ own zod schemas', async () => {
      const res = await app.request('/openapi.json', { headers: bearer('energie') });
      expect(res.status).toBe(200);
      // biome-ignore lint/suspicious/noExplicitAny: walking an arbitrary JSON document, checked by the assertions
      const doc = (await res.json()) as any;
      expect(doc.openapi).toBe('3.1.0');
      expect(doc.info.version).toBe('9.9.9');
      const operations = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(
        ([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
      );
      expect([...operations].sort()).toEqual(
        documentedRoutes()
          .map((r) => `${r.method.toUpperCase()} ${r.path}`)
          .sort(),
      );
      expect(operations).toEqual(
        expect.arrayContaining([
          'PUT /scope/entree/v1/etablissements/{uai}/emploi-du-temps',
          'GET /scope/entree/v1/etablissements/{uai}/versions',
          'GET /scope/entree/v1/etablissements/{uai}/versions/{v}/diff/{w}',
          'GET /scope/sortie/v1/etablissements',
          'GET /scope/sortie/v1/etablissements/{uai}/occupation',
          'GET /scope/sortie/v1/etablissements/{uai}/emploi-du-temps',
          'POST /oauth/token',
          'GET /healthz',
          'GET /scope/vue/{uai}',
        ]),
      );
      const occupancy = doc.paths['/scope/sortie/v1/etablissements/{uai}/occupation'].get;
      expect(occupancy.security).toEqual([{ bearer: [] }]);
      expect(
        occupancy.parameters.map((p: { name: string; in: string; required: boolean }) => [
          p.name,
          p.in,
          p.required,
        ]),
      ).toEqual([
        ['uai', 'path', true],
        ['from', 'query', true],
        ['to', 'query', true],
      ]);
      expect(occupancy.parameters[1].schema).toMatchObject({ type: 'string', format: 'date' });
      expect(doc.components.securitySchemes.bearer).toEqual({
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT or static token',
      });
      expect(doc.components.schemas.Timetable.properties.lessons.items.properties.teachers.description).toBe(
        'Personal data: never sent to the energy purpose',
      );
      expect(doc.paths['/healthz'].get.security).toEqual([]);
    });

    it('renders /docs with every route', async () => {
      const res = await page('/docs', 'auditor');
      expect(res.status).toBe(200);
      const text = await res.text();
      for (const route of documentedRoutes())
        expect(text).toContain(`<code>${route.method.toUpperCase()} ${route.path}</code>`);
      expect(text).toContain('<th scope="row"><code>from</code></th><td>query</td><td>yes</td>');
      expect(text).not.toMatch(/<script|https?:\/\/cdn/);
    });
  });
});
