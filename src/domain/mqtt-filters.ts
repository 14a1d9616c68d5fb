/**
 * MQTT topic-filter algebra (MQTT 3.1.1 §4.7): matching a topic against a filter, and deciding
 * whether one filter only ever matches topics that another also matches. The broker's ACL uses the
 * second to check wildcard subscriptions: a subscription is allowed only when EVERY topic it could
 * match is allowed, so `{prefix}/{uai}/#` is refused to a gateway even though it would also match
 * the `desired` topics it may read.
 */

/** True for a syntactically valid subscription filter (`#` last and alone in its level, `+` alone). */
export function isValidFilter(filter: string): boolean {
  if (filter.length === 0 || filter.includes('\u0000')) return false;
  const levels = filter.split('/');
  return levels.every((level, index) => {
    if (level === '#') return index === levels.length - 1;
    if (level === '+') return true;
    return !level.includes('#') && !level.includes('+');
  });
}

/** True for a valid topic name to publish on: non-empty, no wildcard, no NUL. */
export function isValidTopicName(topic: string): boolean {
  return topic.length > 0 && !topic.includes('+') && !topic.includes('#') && !topic.includes('\u0000');
}

/**
 * Whether `topic` is matched by `filter`. Filters starting with a wildcard do not match topics
 * starting with `$` (MQTT 3.1.1 §4.7.2), so `#` never reaches `$SYS`.
 */
export function topicMatchesFilter(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * Whether every topic matched by `requested` is also matched by `allowed` (filter containment).
 * Both must be valid filters. `a/#` also matches `a` itself, which the recursion honours.
 */
export function filterCovers(allowed: string, requested: string): boolean {
  // `$…` topics are only matched by a filter naming them literally (§4.7.2).
  if (requested.startsWith('$') && (allowed.startsWith('+') || allowed.startsWith('#'))) return false;
  return covers(allowed.split('/'), 0, requested.split('/'), 0);
}

function covers(allowed: string[], a: number, requested: string[], r: number): boolean {
  const allowedLevel = allowed[a];
  const requestedLevel = requested[r];
  if (allowedLevel === '#') return true;
  if (allowedLevel === undefined) return requestedLevel === undefined;
  if (requestedLevel === undefined) {
    // `requested` ends here: it matches a topic ending here, which `allowed` matches only if
    // what remains of it is exactly `#` (handled above) — anything else needs more levels.
    return false;
  }
  if (requestedLevel === '#') {
    // `#` matches the parent level and any depth below it, which a bounded `allowed` cannot
    // cover — except at the root, where there is no parent topic (names are never empty), so
    // `#` is exactly `+/#`.
    return r === 0 && allowedLevel === '+' && allowed.length === 2 && allowed[1] === '#';
  }
  if (allowedLevel === '+') return covers(allowed, a + 1, requested, r + 1);
  if (requestedLevel === '+') return false; // any level, but `allowed` wants one literal
  return allowedLevel === requestedLevel && covers(allowed, a + 1, requested, r + 1);
}
