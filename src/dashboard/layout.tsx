/**
 * The frame of the dashboard's pages (hono/jsx, server-rendered, no script): French, a skip link
 * to the content, one navigation, the logout button, and inline CSS (no external resource: the
 * machines have no network). Colours: text pairs ≥ 7:1, chart fills ≥ 3:1 against white, a
 * visible focus ring on every control.
 */
import type { Child } from 'hono/jsx';

export const STYLE = `
:root { color: #111; background: #fff; font-family: system-ui, sans-serif; line-height: 1.45; }
body { margin: 0 auto; max-width: 82rem; padding: 0 1rem 2rem; }
a { color: #0b3d91; }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible, summary:focus-visible {
  outline: 3px solid #b35900; outline-offset: 2px; }
.evitement { position: absolute; left: -10000px; top: 0; }
.evitement:focus { left: 1rem; top: 0.5rem; background: #fff; padding: 0.5rem 1rem; z-index: 1; }
header.site { display: flex; flex-wrap: wrap; gap: 1rem; justify-content: space-between; align-items: center; border-bottom: 1px solid #555; }
header.site nav ul { display: flex; gap: 1.5rem; list-style: none; padding: 0; margin: 0.8rem 0; }
header.site form { margin: 0; }
table { border-collapse: collapse; width: 100%; font-size: 0.92rem; margin: 0.5rem 0 1rem; }
caption { text-align: left; font-weight: 600; padding: 0.3rem 0; }
th, td { border: 1px solid #555; padding: 0.3rem 0.45rem; vertical-align: top; text-align: left; }
thead th { background: #e8eef8; }
th[scope=row] { background: #f4f4f4; }
td.nombre { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
section { margin-top: 1.5rem; }
section.alertes { border: 2px solid #7a4b00; padding: 0.3rem 1rem; background: #fffbea; }
.ok { border: 2px solid #1e5e20; background: #eef7ee; padding: 0.5rem 1rem; }
.erreur { color: #8b0000; font-weight: 600; margin: 0.2rem 0; }
.resume-erreurs { border: 2px solid #8b0000; padding: 0.3rem 1rem; margin-bottom: 1rem; }
label, legend { display: block; margin-top: 0.7rem; font-weight: 600; }
fieldset { border: 1px solid #555; margin-top: 0.8rem; }
fieldset .choix label { display: inline; font-weight: 400; margin: 0 1.2rem 0 0.2rem; }
.envoi { margin-top: 0.5rem; }
input, select, textarea { font-size: 1rem; padding: 0.3rem; border: 1px solid #444; }
input[type=radio] { width: 1.1rem; height: 1.1rem; vertical-align: middle; }
textarea { width: 100%; max-width: 40rem; }
button { font-size: 1rem; padding: 0.4rem 1rem; margin-top: 0.8rem; border: 1px solid #0b3d91; background: #0b3d91; color: #fff; border-radius: 3px; cursor: pointer; }
button.secondaire { background: #fff; color: #0b3d91; margin: 0; }
header.site button { margin: 0; background: #fff; color: #0b3d91; }
.aide { color: #333; font-size: 0.9rem; margin: 0.1rem 0; }
nav.jours { display: flex; flex-wrap: wrap; gap: 1.2rem; align-items: end; margin: 0.5rem 0 1rem; }
nav.jours form { display: flex; gap: 0.5rem; align-items: end; }
nav.jours label { margin: 0; }
nav.jours button { margin: 0; }
form.filtres { display: flex; flex-wrap: wrap; gap: 0.5rem 1.2rem; align-items: end; margin: 0.5rem 0 1rem; }
form.filtres label { margin: 0; }
form.filtres button { margin: 0; }
nav.pages ul { display: flex; flex-wrap: wrap; gap: 0.4rem 1rem; list-style: none; padding: 0; }
nav.pages a { display: inline-block; min-width: 1.5rem; padding: 0.2rem 0.4rem; text-align: center; }
nav.pages a[aria-current=page] { font-weight: 700; border: 2px solid #0b3d91; }
.frise-zone { border-top: 1px solid #999; padding-top: 0.5rem; }
svg { max-width: 100%; height: auto; font-size: 12px; font-family: system-ui, sans-serif; }
svg text { fill: #111; }
details { margin: 0.3rem 0 0.8rem; }
.non-conforme { color: #8b0000; font-weight: 700; }
@media print {
  header.site, .evitement, form.periode, form.filtres, nav.pages, p.actions { display: none; }
  body { max-width: none; font-size: 10pt; }
  section { break-inside: avoid-page; }
  a { color: #111; text-decoration: none; }
}
`;

export interface LayoutProps {
  title: string;
  clientId: string;
  /** VUE (timetables) is for managers and admins; auditors do not get the link. */
  showVue: boolean;
  children?: Child;
}

export function Layout(props: LayoutProps) {
  return (
    <html lang="fr">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · scope-energie`}</title>
        <style dangerouslySetInnerHTML={{ __html: STYLE }} />
      </head>
      <body>
        <a class="evitement" href="#contenu">
          Aller au contenu
        </a>
        <header class="site">
          <nav aria-label="Navigation principale">
            <ul>
              <li>
                <a href="/tableau-de-bord">Tableau de bord</a>
              </li>
              {props.showVue ? (
                <li>
                  <a href="/scope/vue">Emplois du temps</a>
                </li>
              ) : null}
              <li>
                <a href="/docs">Documentation de l’API</a>
              </li>
            </ul>
          </nav>
          <form method="post" action="/deconnexion">
            <span>Connecté : {props.clientId} </span>
            <button type="submit">Se déconnecter</button>
          </form>
        </header>
        <main id="contenu" tabindex={-1}>
          {props.children}
        </main>
      </body>
    </html>
  );
}

/** The page as sent: the JSX tree after a doctype. */
export function renderDocument(node: unknown): string {
  return `<!doctype html>${String(node)}`;
}
