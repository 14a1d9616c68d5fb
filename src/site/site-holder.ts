/**
 * Keeps the last valid site while files change: a bad edit is reported (file, line, field) and
 * ignored until fixed, so the running service never plans on half a configuration.
 */
import { type FSWatcher, watch } from 'node:fs';
import { InputError, type Problem } from '../domain/problems.js';
import { loadSite, type Site, type SiteDirs } from './load-site.js';

export type ReloadResult = { ok: true; site: Site } | { ok: false; problems: Problem[] };

export class SiteHolder {
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
    try {
      this.site = loadSite(this.dirs);
      result = { ok: true, site: this.site };
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      result = { ok: false, problems: error.problems };
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
