/**
 * The HTML frame of the service's pages (VUE, login, /docs): French, self-contained (inline CSS,
 * no script, no external resource: the machines have no network), high-contrast colours (all
 * text pairs ≥ 7:1, WCAG 2.1 AAA) and visible keyboard focus. Values are escaped by hono's `html`.
 */
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export const STYLE = `
:root { color: #111; background: #fff; font-family: system-ui, sans-serif; line-height: 1.4; }
body { margin: 0 auto; max-width: 80rem; padding: 1rem; }
a { color: #0b3d91; }
a:focus-visible, button:focus-visible, input:focus-visible { outline: 3px solid #b35900; outline-offset: 2px; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { border: 1px solid #555; padding: 0.3rem; vertical-align: top; text-align: left; }
thead th { background: #e8eef8; }
th[scope=row] { background: #f4f4f4; white-space: nowrap; }
td.ferme { background: #eee; }
ul.cours { list-style: none; margin: 0; padding: 0; }
ul.cours li { margin-bottom: 0.3rem; }
.annule { text-decoration: line-through; }
.signale { background: #fff3bf; outline: 2px solid #7a4b00; }
.horaire { font-weight: 600; font-variant-numeric: tabular-nums; }
nav.semaines { display: flex; flex-wrap: wrap; align-items: baseline; gap: 1.5rem; margin: 0.5rem 0 1rem; }
form.choix-semaine { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0.5rem; margin: 0; }
form.choix-semaine label { display: inline; margin: 0; }
form.choix-semaine input { min-width: 0; }
form.choix-semaine button { margin: 0; }
.aide { font-size: 0.85rem; color: #333; }
nav.pages a { margin-right: 1rem; }
section.qualite { border: 2px solid #7a4b00; padding: 0.5rem 1rem; margin-top: 1.5rem; }
.erreur { color: #8b0000; font-weight: 600; }
label { display: block; margin-top: 0.6rem; }
input { font-size: 1rem; padding: 0.3rem; min-width: 20rem; }
button { font-size: 1rem; padding: 0.4rem 1rem; margin-top: 0.8rem; }
pre { background: #f4f4f4; padding: 0.5rem; overflow-x: auto; font-size: 0.8rem; }
header.site { display: flex; justify-content: space-between; align-items: center; border-bottom: 1px solid #555; }
header.site form { margin: 0; }
header.site button { margin: 0; }
`;

export interface LayoutOptions {
  title: string;
  /** Shown with a logout button when a session is open. */
  clientId?: string;
}

export function layout(options: LayoutOptions, body: Html): Html {
  return html`<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · scope-energie</title>
<style>${raw(STYLE)}</style>
</head>
<body>
<header class="site">
<p><a href="/scope/vue">scope-energie</a></p>
${
  options.clientId === undefined
    ? ''
    : html`<form method="post" action="/deconnexion"><span>Connecté : ${options.clientId}</span>
<button type="submit">Se déconnecter</button></form>`
}
</header>
<main>
${body}
</main>
</body>
</html>`;
}
