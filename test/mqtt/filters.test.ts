import { describe, expect, it } from 'vitest';
import {
  filterCovers,
  isValidFilter,
  isValidTopicName,
  topicMatchesFilter,
} from '../../src/domain/mqtt-filters.js';

describe('topicMatchesFilter', () => {
  it.each([
    ['a/+/c', 'a/b/c', true],
    ['a/+/c', 'a/b/d', false],
    ['a/+', 'a/b/c', false],
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['#', 'a/b', true],
    ['#', '$SYS/broker/uptime', false],
    ['+/broker/uptime', '$SYS/broker/uptime', false],
    ['$SYS/#', '$SYS/broker/uptime', true],
    ['a/b', 'a/b/', false],
    ['a/+/', 'a/b/', true],
  ])('%s matches %s: %s', (filter, topic, expected) => {
    expect(topicMatchesFilter(filter, topic)).toBe(expected);
  });
});

describe('isValidFilter / isValidTopicName', () => {
  it('accepts wildcards only as whole levels, # only last', () => {
    expect(['a/+/c', 'a/#', '#', '+', 'a/b'].map(isValidFilter)).toEqual([true, true, true, true, true]);
    expect(['a/#/c', 'a/b#', 'a+/b', '', 'a/\u0000'].map(isValidFilter)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('refuses wildcards and empty names for publishing', () => {
    expect(['a/b', 'a/+', 'a/#', ''].map(isValidTopicName)).toEqual([true, false, false, false]);
  });
});

describe('filterCovers', () => {
  it.each([
    ['p/+/+/+/desired', 'p/A/z1/heating/desired', true],
    ['p/+/+/+/desired', 'p/A/+/+/desired', true],
    ['p/A/+/+/desired', 'p/+/+/+/desired', false],
    ['p/A/+/+/desired', 'p/A/#', false],
    ['p/A/+/+/desired', 'p/A/+/+/+', false],
    ['p/#', 'p', true],
    ['p/#', 'p/#', true],
    ['p/#', '#', false],
    ['p/+', 'p/#', false],
    ['#', '$SYS/#', false],
    ['+/#', '#', true],
  ])('%s covers %s: %s', (allowed, requested, expected) => {
    expect(filterCovers(allowed, requested)).toBe(expected);
  });

  // Property: on a universe of filters over {x, y, +, #} and topics over {x, y, z} (z stands for
  // any other name), `filterCovers(a, r)` holds exactly when every topic `r` matches, `a` matches.
  it('agrees with brute force over every filter pair up to depth 3', () => {
    const filters = allFilters(['x', 'y', '+', '#'], 3);
    const topics = allTopics(['x', 'y', 'z'], 4);
    let pairs = 0;
    for (const allowed of filters) {
      for (const requested of filters) {
        const bruteForce = topics.every(
          (t) => !topicMatchesFilter(requested, t) || topicMatchesFilter(allowed, t),
        );
        expect([allowed, requested, filterCovers(allowed, requested)]).toEqual([
          allowed,
          requested,
          bruteForce,
        ]);
        pairs++;
      }
    }
    expect(pairs).toBe(filters.length ** 2);
  });
});

function allTopics(alphabet: string[], maxDepth: number): string[] {
  const out: string[] = [];
  let level: string[][] = [[]];
  for (let depth = 1; depth <= maxDepth; depth++) {
    level = level.flatMap((prefix) => alphabet.map((a) => [...prefix, a]));
    out.push(...level.map((levels) => levels.join('/')));
  }
  return out;
}

function allFilters(alphabet: string[], maxDepth: number): string[] {
  return allTopics(alphabet, maxDepth).filter(isValidFilter);
}
