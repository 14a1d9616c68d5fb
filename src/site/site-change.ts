/**
 * What changed between two loads of `devices/` and `rules/`, and who changed it (issue 21,
 * "Attribution everywhere"): each file's path and SHA-256 before and after, a value-level diff of
 * the parsed files (`defaults.heating.unoccupied_24h_to_48h.setpoint_c: 14 → 15`), and the actor —
 * the last commit touching the changed files and its author when the folder is a git checkout and
 * the files are committed, else the OS user owning the changed file, else `unknown`, said as such.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/** A file of the site as loaded: path as shown, bytes' hash, parsed value (null when invalid). */
export interface SiteFile {
  /** Path as shown in problems (relative to the base directory). */
  path: string;
  /** Absolute path, to ask git and the file system about it. */
  absolutePath: string;
  sha256: string;
  value: unknown;
  /** The text read (loadSite only): what VUE's data-quality check parses again off the event loop. */
  text?: string;
}

export interface FileChange {
  path: string;
  change: 'added' | 'removed' | 'modified';
  sha256_before?: string;
  sha256_after?: string;
}

export interface ValueChange {
  file: string;
  /** Dotted path in the file; list items with an `id` as `[id=…]`. */
  path: string;
  before?: unknown;
  after?: unknown;
}

export type ActorSource =
  | { kind: 'git'; commit: string; author: string; committed_at: string }
  | { kind: 'os-user'; user: string; basis: string; git_commit?: string }
  | { kind: 'unknown'; why: string };

export interface SiteChange {
  actor: string;
  actor_source: ActorSource;
  files: FileChange[];
  diff: ValueChange[];
  /** Value changes left out beyond the first MAX_DIFF_ENTRIES. */
  diff_omitted?: number;
}

/** Enough for any hand edit; a wholesale replacement is summarised by the file hashes. */
export const MAX_DIFF_ENTRIES = 200;
/** git answers in milliseconds; a hung one (network file system) must not hold a reload. */
const GIT_TIMEOUT_MS = 3_000;
const SECRET_KEY = /password|secret|token/i;

export function describeSiteChange(before: readonly SiteFile[], after: readonly SiteFile[]): SiteChange {
  const old = new Map(before.map((f) => [f.path, f]));
  const now = new Map(after.map((f) => [f.path, f]));
  const files: FileChange[] = [];
  const diff: ValueChange[] = [];
  let omitted = 0;
  const push = (change: ValueChange) => {
    if (diff.length < MAX_DIFF_ENTRIES) diff.push(change);
    else omitted += 1;
  };
  for (const path of [...new Set([...old.keys(), ...now.keys()])].sort()) {
    const a = old.get(path);
    const b = now.get(path);
    if (a && b && a.sha256 === b.sha256) continue;
    files.push({
      path,
      change: !a ? 'added' : !b ? 'removed' : 'modified',
      ...(a ? { sha256_before: a.sha256 } : {}),
      ...(b ? { sha256_after: b.sha256 } : {}),
    });
    if (a && b && a.value !== null && b.value !== null) diffValues(path, '', a.value, b.value, push);
  }
  const changed = files.map((f) => now.get(f.path) ?? old.get(f.path)).filter((f) => f !== undefined);
  const { actor, source } = attribute(changed.map((f) => f.absolutePath));
  return {
    actor,
    actor_source: source,
    files,
    diff,
    ...(omitted > 0 ? { diff_omitted: omitted } : {}),
  };
}

function diffValues(
  file: string,
  path: string,
  a: unknown,
  b: unknown,
  push: (c: ValueChange) => void,
): void {
  const redacted = SECRET_KEY.test(path.split('.').at(-1) ?? '');
  if (isObject(a) && isObject(b)) {
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      diffValues(file, path ? `${path}.${key}` : key, a[key], b[key], push);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const keyed = (list: unknown[]) =>
      list.every((item) => isObject(item) && typeof item['id'] === 'string')
        ? new Map(list.map((item) => [`[id=${(item as { id: string }).id}]`, item]))
        : new Map(list.map((item, i) => [`[${i}]`, item]));
    const x = keyed(a);
    const y = keyed(b);
    for (const key of new Set([...x.keys(), ...y.keys()]))
      diffValues(file, `${path}${key}`, x.get(key), y.get(key), push);
    return;
  }
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  const shown = (v: unknown) => (redacted ? '[redacted]' : v);
  push({
    file,
    path,
    ...(a === undefined ? {} : { before: shown(a) }),
    ...(b === undefined ? {} : { after: shown(b) }),
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Who made the change: a commit is the author only when the changed files are committed as they
 * are now (a dirty working copy was edited after it); otherwise the owner of the changed file.
 */
function attribute(paths: readonly string[]): { actor: string; source: ActorSource } {
  if (paths.length === 0) return { actor: 'unknown', source: { kind: 'unknown', why: 'no file changed' } };
  const cwd = dirname(paths[0] ?? '.');
  const git = (...args: string[]): string | null => {
    try {
      return execFileSync('git', args, {
        cwd,
        timeout: GIT_TIMEOUT_MS,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        // No index refresh: a read-only look must not take git's lock from the user.
        env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' },
      });
    } catch {
      return null;
    }
  };
  let commit: string | undefined;
  if (git('rev-parse', '--is-inside-work-tree')?.trim() === 'true') {
    const dirty = git('status', '--porcelain', '--', ...paths);
    const last = git('log', '-1', '--format=%H%x00%an <%ae>%x00%aI', '--', ...paths)?.trim();
    const [hash, author, committedAt] = last ? last.split('\0') : [];
    commit = hash;
    if (dirty === '' && hash && author && committedAt) {
      return {
        actor: `git:${author}`,
        source: { kind: 'git', commit: hash, author, committed_at: committedAt },
      };
    }
  }
  const owner = ownerOf(paths);
  if (owner) {
    return {
      actor: `os:${owner}`,
      source: {
        kind: 'os-user',
        user: owner,
        basis: commit
          ? 'owner of the changed file; uncommitted changes on top of the git commit'
          : 'owner of the changed file (not a git checkout)',
        ...(commit ? { git_commit: commit } : {}),
      },
    };
  }
  return {
    actor: 'unknown',
    source: { kind: 'unknown', why: 'not committed in a git checkout, and the file owner could not be read' },
  };
}

/** The user name owning the most recently modified of `paths` (its folder when it was removed). */
function ownerOf(paths: readonly string[]): string | null {
  let newest: { uid: number; mtimeMs: number } | undefined;
  for (const path of paths) {
    for (const candidate of [path, dirname(path)]) {
      try {
        const stat = statSync(candidate);
        if (!newest || stat.mtimeMs > newest.mtimeMs) newest = { uid: stat.uid, mtimeMs: stat.mtimeMs };
        break;
      } catch {
        // removed: its folder tells who removed it
      }
    }
  }
  if (!newest) return null;
  return userName(newest.uid) ?? `uid:${newest.uid}`;
}

function userName(uid: number): string | null {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (name && Number(id) === uid) return name;
    }
  } catch {
    // not a Unix system
  }
  return null;
}
