/**
 * `devices/{uai}.yaml` for VUE's data-quality panel, from the site holder the service already
 * keeps (src/site/site-holder.ts): no file is read per view, and the page checks the very devices
 * the bridge plans with. An edit the holder refused (a reload that failed) is shown as the finding
 * it is, with its problems, while the bridge keeps the last valid file. Tools and tests without a
 * service pass a holder loaded once (`new SiteHolder(dirs)`, not started). The text is handed to
 * the view task, which parses it off the event loop (view-task.ts).
 */
import { basename } from 'node:path';
import type { Problem } from '../../domain/problems.js';
import type { Site } from '../../site/load-site.js';
import type { ReloadResult } from '../../site/site-holder.js';
import type { DevicesText } from './view-task.js';

/** What VUE needs of a site holder. */
export interface SiteDevices {
  readonly current: Site;
  onReload?(listener: (result: ReloadResult) => void): () => void;
}

export type DevicesTextSource = (uai: string) => DevicesText;

export function siteDevicesSource(site: SiteDevices): DevicesTextSource {
  // The problems of the last reload when it failed; cleared by the next valid one.
  let refused: Problem[] = [];
  site.onReload?.((result) => {
    refused = result.ok ? [] : result.problems;
  });
  return (uai) => {
    const ownProblems = refused.filter((p) => new RegExp(`(^|/)${uai}\\.ya?ml\\b`, 'i').test(p.where));
    if (ownProblems.length > 0) return { file: `devices/${uai}.yaml`, invalid: ownProblems };
    const loaded = site.current.devices.get(uai);
    if (!loaded) return { file: `devices/${uai}.yaml`, absent: true };
    const file = `devices/${basename(loaded.file)}`;
    const text = site.current.files.find((f) => f.path === loaded.file)?.text;
    return text === undefined ? { file, absent: true } : { file, text };
  };
}
