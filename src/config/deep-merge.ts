/**
 * Layering of configuration documents: a later layer's mapping merges key by key into the earlier
 * one; scalars and lists replace (a site's `local.yaml` lists its own values, it does not append).
 */
export type PlainObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is PlainObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function deepMerge(base: PlainObject, layer: PlainObject): PlainObject {
  const out: PlainObject = { ...base };
  for (const [key, value] of Object.entries(layer)) {
    const previous = out[key];
    out[key] = isPlainObject(previous) && isPlainObject(value) ? deepMerge(previous, value) : value;
  }
  return out;
}

/** Sets `path` in `target`, replacing any non-mapping met on the way (`source: embedded` → `{url}`). */
export function setPath(target: PlainObject, path: readonly string[], value: unknown): PlainObject {
  const [head, ...rest] = path;
  if (head === undefined) return target;
  const out: PlainObject = { ...target };
  if (rest.length === 0) {
    out[head] = value;
  } else {
    const child = out[head];
    out[head] = setPath(isPlainObject(child) ? child : {}, rest, value);
  }
  return out;
}

/** Every path present in `value`, mappings and leaves alike, in document order. */
export function pathsOf(value: unknown, prefix: readonly string[] = []): string[][] {
  if (!isPlainObject(value)) return [];
  return Object.entries(value).flatMap(([key, child]) => [
    [...prefix, key],
    ...pathsOf(child, [...prefix, key]),
  ]);
}
