/**
 * Issue 21, attribution of rules and devices edits: a value change (gymnasium 14 → 15 °C) gives a
 * new rules version although `version:` stayed, and the audit entry names the file, its hashes,
 * the value diff and the actor — the commit's author in a git checkout, the file's OS owner for
 * an uncommitted edit or outside git — also for an edit that is refused.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reloadEvents } from '../../src/bridge/audit-events.js';
import { SiteHolder } from '../../src/site/site-holder.js';
import { openStore } from '../../src/store/store.js';
import { REPO_ROOT, tempWorkDir } from '../helpers/cli.js';

const GYM_14 = 'setpoint_c: 14\n        basis: "plan de sobriété 2022: 14 °C in gymnasiums"';
const GYM_15 = 'setpoint_c: 15\n        basis: "plan de sobriété 2022: 14 °C in gymnasiums"';
const ME = userInfo().username;

function copySite() {
  const dir = tempWorkDir();
  cpSync(join(REPO_ROOT, 'devices'), join(dir, 'devices'), { recursive: true });
  cpSync(join(REPO_ROOT, 'rules'), join(dir, 'rules'), { recursive: true });
  const rulesFile = join(dir, 'rules', 'default.yaml');
  return {
    dir,
    rulesFile,
    holder: () =>
      new SiteHolder({ devicesDir: join(dir, 'devices'), rulesDir: join(dir, 'rules'), baseDir: dir }),
  };
}

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null' },
  });
}

function commitAs(dir: string, author: string, email: string, message: string): string {
  git(dir, 'add', '-A');
  git(dir, '-c', `user.name=${author}`, '-c', `user.email=${email}`, 'commit', '-q', '-m', message);
  return git(dir, 'rev-parse', 'HEAD').trim();
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('rules and devices edits, attributed', () => {
  it("in a git checkout: the committed edit is the commit author's, with a new rules version and the value diff", async () => {
    const { dir, rulesFile, holder } = copySite();
    git(dir, 'init', '-q');
    commitAs(dir, 'Alice Martin', 'alice@region.fr', 'site as shipped');
    const site = holder();
    const before = site.current.ruleSet.value.version;
    expect(before).toMatch(/^2026\.1\+[0-9a-f]{12}$/);
    const original = readFileSync(rulesFile, 'utf8');
    expect(original).toContain(GYM_14);

    // Uncommitted: the working copy's owner changed it, on top of Alice's commit.
    writeFileSync(rulesFile, original.replace(GYM_14, GYM_15));
    const uncommitted = site.reload();
    expect(uncommitted.ok).toBe(true);
    expect(uncommitted.change).toMatchObject({
      actor: `os:${ME}`,
      actor_source: { kind: 'os-user', user: ME, git_commit: expect.stringMatching(/^[0-9a-f]{40}$/) },
    });
    const after = site.current.ruleSet.value.version;
    expect(after).toMatch(/^2026\.1\+[0-9a-f]{12}$/);
    expect(after).not.toBe(before);

    // Committed by Bob, then back to 14 °C: Bob's commit is named, the version is the first again.
    const commit = commitAs(dir, 'Bob Durand', 'bob@region.fr', 'gymnase back to 14 °C');
    writeFileSync(rulesFile, original);
    const bobCommit = commitAs(dir, 'Bob Durand', 'bob@region.fr', 'gymnase back to 14 °C');
    expect(bobCommit).not.toBe(commit);
    const reverted = site.reload();
    expect(site.current.ruleSet.value.version).toBe(before);
    expect(reverted.change).toEqual({
      actor: 'git:Bob Durand <bob@region.fr>',
      actor_source: {
        kind: 'git',
        commit: bobCommit,
        author: 'Bob Durand <bob@region.fr>',
        committed_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      },
      files: [
        {
          path: 'rules/default.yaml',
          change: 'modified',
          sha256_before: sha256(original.replace(GYM_14, GYM_15)),
          sha256_after: sha256(original),
        },
      ],
      diff: [
        {
          file: 'rules/default.yaml',
          path: 'categories.gym.heating.occupied.setpoint_c',
          before: 15,
          after: 14,
        },
      ],
    });

    // In the log: a config entry with the actor, the new version, the file and the diff.
    const store = await openStore({ dataDir: join(dir, 'data') });
    try {
      await store.audit.append(reloadEvents(reverted, Date.parse('2026-11-30T07:00:00Z')));
      const [entry] = await store.audit.list({ kind: 'config' });
      expect(entry).toMatchObject({
        actor: 'git:Bob Durand <bob@region.fr>',
        detail: {
          applied: true,
          rules_version: before,
          files: [{ path: 'rules/default.yaml', change: 'modified' }],
          diff: [{ path: 'categories.gym.heating.occupied.setpoint_c', before: 15, after: 14 }],
        },
      });
    } finally {
      await store.close();
    }
  });

  it('outside git: the file owner; a refused edit (legal cap) is attributed too', () => {
    const { rulesFile, holder } = copySite();
    const site = holder();
    const original = readFileSync(rulesFile, 'utf8');
    writeFileSync(rulesFile, original.replace(GYM_14, GYM_15));
    expect(site.reload().change).toMatchObject({
      actor: `os:${ME}`,
      actor_source: { kind: 'os-user', user: ME, basis: 'owner of the changed file (not a git checkout)' },
      diff: [{ path: 'categories.gym.heating.occupied.setpoint_c', before: 14, after: 15 }],
    });
    writeFileSync(rulesFile, original.replace(GYM_14, 'setpoint_c: 21\n        basis: "x"'));
    const refused = site.reload();
    expect(refused.ok).toBe(false);
    const [event] = reloadEvents(refused, 0);
    expect(event).toMatchObject({
      kind: 'config',
      actor: `os:${ME}`,
      detail: {
        applied: false,
        problems: [expect.objectContaining({ code: 'legal-cap-exceeded' })],
        files: [{ path: 'rules/default.yaml', change: 'modified' }],
        diff: [],
      },
    });
  });
});
