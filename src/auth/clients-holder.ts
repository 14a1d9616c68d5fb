/**
 * The clients files, live (issue 20, "Onboarding without restarts"): the configured
 * `clients_file` and the generated bootstrap clients are re-read when either changes, like
 * devices/ and rules/ (src/site/site-holder.ts). A bad edit is reported (file, line, field) and the
 * last valid set is kept, so a typo never locks everyone out; a client removed or disabled by a
 * valid edit loses access from the next request (the listener hands the set to the Authenticator).
 */
import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InputError, type Problem } from '../domain/problems.js';
import type { Part } from '../lifecycle/part.js';
import { GENERATED_CLIENTS_FILE } from './bootstrap.js';
import { type Client, combineClientFiles, readClientsFile } from './clients.js';

export type ClientsReloadResult =
  | {
      ok: true;
      clients: Client[];
      /** Client ids by what happened to them, against the last valid set. */
      added: string[];
      removed: string[];
      changed: string[];
    }
  | { ok: false; problems: Problem[] };

export interface ClientsFiles {
  clientsFile: string;
  dataDir: string;
}

export class ClientsHolder implements Part {
  private clients: Client[];
  private invalid: Problem[] | null = null;
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(result: ClientsReloadResult) => void>();

  /** `initial`: the set the service started on (already read, bootstrap included). */
  constructor(
    private readonly files: ClientsFiles,
    initial: readonly Client[],
  ) {
    this.clients = [...initial];
  }

  get current(): readonly Client[] {
    return this.clients;
  }

  /** The problems of the last refused edit, null while the files on disk are the ones in use. */
  get refused(): readonly Problem[] | null {
    return this.invalid;
  }

  /** Re-reads both files; keeps the previous set when anything is wrong. */
  reload(): ClientsReloadResult {
    let result: ClientsReloadResult;
    try {
      const next = combineClientFiles([
        readClientsFile(this.files.clientsFile, { optional: true }),
        readClientsFile(join(this.files.dataDir, GENERATED_CLIENTS_FILE), { optional: true }),
      ]);
      result = { ok: true, clients: next, ...changesBetween(this.clients, next) };
      this.clients = next;
      this.invalid = null;
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      this.invalid = error.problems;
      result = { ok: false, problems: error.problems };
    }
    for (const listener of this.listeners) listener(result);
    return result;
  }

  onReload(listener: (result: ClientsReloadResult) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Reloads shortly after either file changes. The directories are watched, not the files: an
   * editor or `clients add` replaces a file by renaming another over it, which ends a watch on
   * the file itself.
   */
  start(debounceMs = 300): void {
    const schedule = () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.reload(), debounceMs);
    };
    const byDir = new Map<string, Set<string>>();
    for (const file of [this.files.clientsFile, join(this.files.dataDir, GENERATED_CLIENTS_FILE)]) {
      const names = byDir.get(dirname(file)) ?? new Set<string>();
      names.add(basename(file));
      byDir.set(dirname(file), names);
    }
    for (const [dir, names] of byDir) {
      try {
        this.watchers.push(
          watch(dir, (_event, name) => {
            // The data directory also holds the database: only our files count.
            if (name === null || names.has(name.toString())) schedule();
          }),
        );
      } catch {
        // A missing directory cannot be watched; `reload()` (the admin API) still works.
      }
    }
  }

  stop(): void {
    clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }
}

function changesBetween(
  before: readonly Client[],
  after: readonly Client[],
): { added: string[]; removed: string[]; changed: string[] } {
  const old = new Map(before.map((c) => [c.id, JSON.stringify(c)]));
  const now = new Map(after.map((c) => [c.id, JSON.stringify(c)]));
  return {
    added: [...now.keys()].filter((id) => !old.has(id)),
    removed: [...old.keys()].filter((id) => !now.has(id)),
    changed: [...now.keys()].filter((id) => old.has(id) && old.get(id) !== now.get(id)),
  };
}
