/**
 * Keeps the last valid site while files change: a bad edit is reported (file, line, field) and
 * ignored until fixed, so the running service never plans on half a configuration.
 */
import { type FSWatcher, watch } from 'node:fs';
import { InputError, type Problem } from '../domain/problems.js';
import type { Part } from '../lifecycle/part.js';
import { loadSite, type Site, type SiteDirs, siteFileHashes } from './load-site.js';
import { describeSiteChange, type SiteChange } from './site-change.js';

/** `change`: the files, value diff and actor against the last valid set (issue 21). */
export type ReloadResult =
  | { ok: true; site: Site; change?: SiteChange }
  | { ok: false; problems: Problem[]; change?: SiteChange };

export class SiteHolder implements Part {
  private site: Site;
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(result: ReloadResult) => void>();

  /** Throws when the initial files are invalid: the service must not start on them. */
  constructor(private readonly dirs: SiteDirs) {
    this.site = loadSite(dirs);
  }

  get current(): Site {
    return this.site;
  }

  /** Re-reads every file; keeps the previous site when anything is wrong. */
  reload(): ReloadResult {
    let result: ReloadResult;
    const previous = this.site;
    try {
      this.site = loadSite(this.dirs);
      result = { ok: true, site: this.site, change: describeSiteChange(previous.files, this.site.files) };
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      result = {
        ok: false,
        problems: error.problems,
        change: describeSiteChange(previous.files, siteFileHashes(this.dirs)),
      };
    }
    for (const listener of this.listeners) listener(result);
    return result;
  }

  onReload(listener: (result: ReloadResult) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reloads shortly after files change (editors write in several steps). */
  start(debounceMs = 300): void {
    const schedule = () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.reload(), debounceMs);
    };
    for (const dir of [this.dirs.devicesDir, this.dirs.rulesDir]) {
      try {
        this.watchers.push(watch(dir, schedule));
      } catch {
        // A missing directory cannot be watched; `reload()` (SIGHUP, API) still works.
      }
    }
  }

  stop(): void {
    clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }
}
